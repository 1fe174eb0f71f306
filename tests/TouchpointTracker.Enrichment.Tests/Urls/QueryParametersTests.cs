using TouchpointTracker.Enrichment.Urls;

namespace TouchpointTracker.Enrichment.Tests.Urls;

public class QueryParametersTests
{
    [Test]
    public void Enumerates_pairs_and_skips_empty_segments()
    {
        var seen = new List<(string, string?)>();
        foreach (var p in new QueryParameters("a=1&&b=&c&=orphan&d=x%3Dy&"))
        {
            seen.Add((p.RawName.ToString(), p.DecodeValue()));
        }

        Assert.That(seen, Is.EqualTo(new[] { ("a", "1"), ("b", null), ("c", null), ("d", "x=y") }));
    }
}
