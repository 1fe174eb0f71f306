using FsCheck;
using FsCheck.Fluent;
using TouchpointTracker.Enrichment.Channels;
using TouchpointTracker.Enrichment.Referrers;
using TouchpointTracker.Enrichment.Urls;

namespace TouchpointTracker.Enrichment.Tests.Referrers;

/// <summary>The classifier runs on every event: whatever the referrer, it answers and never throws.</summary>
public class ReferrerClassifierProperties
{
    private static readonly string[] Pieces =
    [
        "https://", "http://", "android-app://", "//", "www.", "google.", "mail", "*.", "deref-gmx", ".", "..", "-", "co.uk",
        "fr", "de", "ch", "be", "ca", "com", "orange.fr", "bing.com", "/chat", "/aclk", "/i/grok", "?q=", "&kw=", "%", "%C3%A9",
        "%ZZ", "#", "@", ":", ":8080", "[::1]", "\u00e9", "\ud83d\ude00", "\u0000", " ", "\t", "/", "?", "=", "&", "+", "xn--",
        new string('a', 70), string.Concat(Enumerable.Repeat("b.", 140)),
    ];

    /// <summary>Strings built from URL-ish pieces, so that most of them reach the host and path lookups.</summary>
    private static Arbitrary<string> UrlLike() =>
        Gen.Elements(Pieces).ArrayOf().Select(parts => string.Concat(parts)).ToArbitrary();

    [FsCheck.NUnit.Property(MaxTest = 2000)]
    public Property Never_throws_on_url_like_referrers() =>
        Prop.ForAll(UrlLike(), UrlLike(), (referrer, page) => ClassifyAll(referrer, page));

    [FsCheck.NUnit.Property(MaxTest = 2000)]
    public Property Never_throws_on_arbitrary_strings() =>
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), ArbMap.Default.ArbFor<string>(), (referrer, page) => ClassifyAll(referrer, page));

    private static bool ClassifyAll(string? referrer, string? page)
    {
        var parsed = UrlParser.Parse(referrer);
        var c = ReferrerClassifier.Default.Classify(parsed, UrlParser.Parse(page).Host, SiteDomains.None);
        _ = SourceCatalog.Default.FindByHost(referrer ?? "", page ?? "");
        _ = SourceCatalog.Default.FindBySource(referrer ?? "");
        _ = ChannelClassifier.Default.Classify(referrer, page, referrer);
        return c.Medium == ReferrerMedium.None == (parsed.Host is null) && (!c.IsExternal || c.Source is not null);
    }
}
