using TouchpointTracker.Enrichment.Referrers;

namespace TouchpointTracker.Enrichment.Tests.Referrers;

public class SourceCatalogTests
{
    [Test]
    public void Every_row_pattern_finds_its_own_row()
    {
        var failures = new List<string>();
        foreach (var row in ReferrerTable.Rows)
        {
            foreach (var pattern in row.Hosts)
            {
                var host = pattern.EndsWith(".*", StringComparison.Ordinal) ? pattern[..^2] + ".com" : pattern;
                var found = SourceCatalog.Default.FindByHost(host);
                if (found is null || found.Medium != row.Medium || found.Source != row.Source)
                {
                    failures.Add($"{pattern} -> {found?.Source}/{found?.Medium}");
                }
            }
        }

        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void Patterns_are_lower_case_and_well_formed()
    {
        foreach (var pattern in ReferrerTable.Rows.SelectMany(r => r.Hosts))
        {
            Assert.That(pattern, Is.EqualTo(pattern.ToLowerInvariant()).And.Not.StartsWith(".").And.Not.StartsWith("www."));
            Assert.That(pattern.IndexOf('*', StringComparison.Ordinal), Is.EqualTo(-1).Or.EqualTo(pattern.Length - 1));
        }
    }

    [Test]
    public void Building_with_a_repeated_pattern_fails_at_start_up()
    {
        var rows = new[]
        {
            new ReferrerTable.Row("a", ReferrerMedium.Search, [], ["a.com"]),
            new ReferrerTable.Row("b", ReferrerMedium.Social, [], ["a.com"]),
        };
        Assert.Throws<ArgumentException>(() => _ = new SourceCatalog(rows, new Dictionary<string, string>()));
    }

    [Test]
    public void A_name_with_two_media_fails_at_start_up()
    {
        var rows = new[]
        {
            new ReferrerTable.Row("a", ReferrerMedium.Search, [], ["a.com"]),
            new ReferrerTable.Row("a", ReferrerMedium.Social, [], ["b.com"]),
        };
        Assert.Throws<ArgumentException>(() => _ = new SourceCatalog(rows, new Dictionary<string, string>()));
    }

    [TestCase("google", ReferrerMedium.Search)]
    [TestCase("Google", ReferrerMedium.Search)]
    [TestCase("www.google.fr", ReferrerMedium.Search)]
    [TestCase("fb", ReferrerMedium.Social)]
    [TestCase("ig", ReferrerMedium.Social)]
    [TestCase("m.facebook.com", ReferrerMedium.Social)]
    [TestCase("twitter", ReferrerMedium.Social)]
    [TestCase("yt", ReferrerMedium.Video)]
    [TestCase("amazon", ReferrerMedium.Shopping)]
    [TestCase("ebay", ReferrerMedium.Shopping)]
    [TestCase("gmail", ReferrerMedium.Email)]
    public void Finds_sources_by_name_alias_host_or_brand(string source, ReferrerMedium medium)
    {
        Assert.That(SourceCatalog.Default.FindBySource(source)?.Medium, Is.EqualTo(medium));
    }

    [TestCase("newsletter")]
    [TestCase("partner.example")]
    [TestCase("")]
    [TestCase("   ")]
    public void Unknown_sources_are_null(string source)
    {
        Assert.That(SourceCatalog.Default.FindBySource(source), Is.Null);
    }
}
