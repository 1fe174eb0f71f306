using TouchpointTracker.Enrichment.Referrers;

namespace TouchpointTracker.Enrichment.Tests.Referrers;

public class SourceCatalogTests
{
    [Test]
    public void Every_pattern_of_the_built_in_table_finds_its_own_entry()
    {
        var failures = new List<string>();
        var catalog = SourceCatalog.Default;
        foreach (var entry in ReferrerTable.BuiltIn.Entries)
        {
            foreach (var pattern in entry.Hosts)
            {
                var (host, path) = ExampleOf(pattern);
                var found = catalog.FindByHost(host, path);
                if (found is null || found.Medium != entry.Medium || found.Source != entry.Source || found.Id != entry.Id)
                {
                    failures.Add($"{pattern} -> {found?.Id}");
                }
            }
        }

        foreach (var list in ReferrerTable.BuiltIn.Spam)
        {
            foreach (var pattern in list.Hosts)
            {
                var (host, path) = ExampleOf(pattern);
                if (catalog.FindByHost(host, path) is not { Medium: ReferrerMedium.Spam } found || found.SpamReason != list.Reason)
                {
                    failures.Add($"{pattern} (spam)");
                }
            }
        }

        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void The_built_in_table_has_a_version_and_every_medium()
    {
        var table = ReferrerTable.BuiltIn;
        Assert.Multiple(() =>
        {
            Assert.That(table.Version, Does.Match(@"^\d{4}\.\d{2}\.\d+$"));
            Assert.That(table.Description, Is.EqualTo(table.Version + " (built-in)"));
            Assert.That(table.Entries.Select(e => e.Medium).Distinct(), Is.EquivalentTo(new[]
            {
                ReferrerMedium.Search, ReferrerMedium.Social, ReferrerMedium.Email, ReferrerMedium.Video,
                ReferrerMedium.Shopping, ReferrerMedium.Referral, ReferrerMedium.Ai, ReferrerMedium.Paid,
            }));
            Assert.That(table.SpamReasons, Is.Not.Empty);
            Assert.That(table.HostCount, Is.GreaterThan(350));
        });
    }

    [Test]
    public void Patterns_are_well_formed()
    {
        var bad = ReferrerTable.BuiltIn.Entries.SelectMany(e => e.Hosts)
            .Concat(ReferrerTable.BuiltIn.Spam.SelectMany(s => s.Hosts))
            .Where(p => ReferrerTable.CheckPattern(p) is not null);
        Assert.That(bad, Is.Empty);
    }

    [TestCase("google", ReferrerMedium.Search)]
    [TestCase("Google", ReferrerMedium.Search)]
    [TestCase("www.google.fr", ReferrerMedium.Search)]
    [TestCase("fb", ReferrerMedium.Social)]
    [TestCase("ig", ReferrerMedium.Social)]
    [TestCase("m.facebook.com", ReferrerMedium.Social)]
    [TestCase("twitter", ReferrerMedium.Social)]
    [TestCase("workplace", ReferrerMedium.Social)]
    [TestCase("yt", ReferrerMedium.Video)]
    [TestCase("amazon", ReferrerMedium.Shopping)]
    [TestCase("ebay", ReferrerMedium.Shopping)]
    [TestCase("pricerunner", ReferrerMedium.Shopping)]
    [TestCase("gmail", ReferrerMedium.Email)]
    [TestCase("chatgpt", ReferrerMedium.Ai)]
    [TestCase("chatgpt.com", ReferrerMedium.Ai)]
    [TestCase("openai", ReferrerMedium.Ai)]
    [TestCase("perplexity", ReferrerMedium.Ai)]
    [TestCase("googleads.g.doubleclick.net", ReferrerMedium.Paid)]
    [TestCase("semalt.com", ReferrerMedium.Spam)]
    public void Finds_sources_by_name_alias_host_or_brand(string source, ReferrerMedium medium)
    {
        Assert.That(SourceCatalog.Default.FindBySource(source)?.Medium, Is.EqualTo(medium));
    }

    // "gmx", "web.de", "t-online" and "mail.ru" name both a search engine and a webmail: the name is no
    // site list's, so gmx / email stays Email and gmx / organic stays Organic Search (by medium).
    [TestCase("t-online")]
    [TestCase("mail.ru")]
    [TestCase("newsletter")]
    [TestCase("partner.example")]
    [TestCase("")]
    [TestCase("   ")]
    public void Unknown_or_ambiguous_sources_are_null(string source)
    {
        Assert.That(SourceCatalog.Default.FindBySource(source), Is.Null);
    }

    [Test]
    public void A_name_shared_by_search_and_webmail_is_found_by_brand_as_webmail()
    {
        Assert.That(SourceCatalog.Default.FindBySource("gmx")?.Medium, Is.EqualTo(ReferrerMedium.Email));
    }

    private static (string Host, string Path) ExampleOf(string pattern)
    {
        var slash = pattern.IndexOf('/', StringComparison.Ordinal);
        var host = slash < 0 ? pattern : pattern[..slash];
        var path = slash < 0 ? "/" : pattern[slash..] + "/x";
        if (host.EndsWith(".*", StringComparison.Ordinal))
        {
            host = host[..^2] + ".com";
        }

        var star = host.IndexOf('*', StringComparison.Ordinal);
        if (star >= 0)
        {
            host = host.Remove(star, 1).Insert(star, "01");
        }

        return (host, path);
    }
}
