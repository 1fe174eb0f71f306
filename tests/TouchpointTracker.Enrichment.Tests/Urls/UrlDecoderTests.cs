using TouchpointTracker.Enrichment.Urls;

namespace TouchpointTracker.Enrichment.Tests.Urls;

public class UrlDecoderTests
{
    [TestCase("plain", "plain")]
    [TestCase("a+b", "a b")]
    [TestCase("a%20b", "a b")]
    [TestCase("caf%C3%A9", "café")]
    [TestCase("café", "café")]
    [TestCase("%E2%82%AC100", "€100")]
    [TestCase("100%", "100%")]
    [TestCase("%zz%4", "%zz%4")]
    [TestCase("%C3", "\uFFFD")]
    [TestCase("  padded  ", "padded")]
    [TestCase("%20%20both%20", "both")]
    [TestCase("tab%09inside", "tabinside")]
    [TestCase("line%0Abreak", "linebreak")]
    [TestCase("", null)]
    [TestCase("+++", null)]
    [TestCase("%00", null)]
    public void Decodes(string raw, string? expected)
    {
        Assert.That(UrlDecoder.DecodeValue(raw), Is.EqualTo(expected));
    }

    [Test]
    public void Bounds_length_without_splitting_surrogates()
    {
        var value = new string('a', 9) + "\ud83d\ude00" + "tail";
        Assert.That(UrlDecoder.DecodeValue(value, 10), Is.EqualTo(new string('a', 9)));
        Assert.That(UrlDecoder.DecodeValue(new string('x', 10_000)), Has.Length.EqualTo(EnrichmentLimits.MaxValueLength));
        Assert.That(UrlDecoder.DecodeValue(string.Concat(Enumerable.Repeat("%41", 5_000))), Has.Length.EqualTo(EnrichmentLimits.MaxValueLength));
    }

    [Test]
    public void Zero_length_bound_gives_null()
    {
        Assert.That(UrlDecoder.DecodeValue("abc", 0), Is.Null);
    }
}
