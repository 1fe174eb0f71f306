using TouchpointTracker.Enrichment.Referrers;
using TouchpointTracker.Enrichment.Urls;

namespace TouchpointTracker.Enrichment.Tests.Referrers;

/// <summary>Loading, validating and overriding the referrer table file.</summary>
public class ReferrerTableTests
{
    private static ReferrerTable Override(string yaml) => ReferrerTable.BuiltIn.WithOverride(new StringReader(yaml), "override.yaml");

    private static ReferrerTableException Invalid(string yaml) =>
        Assert.Throws<ReferrerTableException>(() => Override(yaml))!;

    private static ReferrerClassification Classify(ReferrerTable table, string referrer) =>
        new ReferrerClassifier(new SourceCatalog(table)).Classify(UrlParser.Parse(referrer), "www.shop.example", SiteDomains.None);

    [Test]
    public void An_override_adds_entries()
    {
        var table = Override("""
            version: "acme-3"
            sources:
              - source: intranet search
                medium: search
                keywords: [s]
                hosts: [search.acme.example]
            """);
        var c = Classify(table, "https://search.acme.example/?s=vpn");
        Assert.Multiple(() =>
        {
            Assert.That((c.Medium, c.Source, c.Term), Is.EqualTo((ReferrerMedium.Search, "intranet search", "vpn")));
            Assert.That(table.Description, Is.EqualTo($"{ReferrerTable.BuiltIn.Version} (built-in) + override.yaml (version acme-3)"));
            Assert.That(Classify(table, "https://www.google.fr/").Source, Is.EqualTo("google"));
        });
    }

    [Test]
    public void An_entry_with_the_same_source_and_medium_replaces_the_built_in_one_whole()
    {
        var table = Override("""
            sources:
              - source: qwant
                medium: search
                keywords: [query]
                hosts: [qwant.example]
            """);
        Assert.Multiple(() =>
        {
            Assert.That(Classify(table, "https://qwant.example/?query=x").Term, Is.EqualTo("x"));
            Assert.That(Classify(table, "https://www.qwant.com/?q=x").Medium, Is.EqualTo(ReferrerMedium.Referral));
        });
    }

    [Test]
    public void A_host_listed_by_the_override_moves_to_the_override_entry()
    {
        var table = Override("""
            sources:
              - source: acme mail
                medium: email
                hosts: [mail.yandex.*]
            """);
        Assert.Multiple(() =>
        {
            Assert.That(Classify(table, "https://mail.yandex.ru/").Source, Is.EqualTo("acme mail"));
            Assert.That(Classify(table, "https://yandex.ru/search/?text=x").Source, Is.EqualTo("yandex"));
        });
    }

    [Test]
    public void Remove_deletes_a_built_in_entry_and_not_spam_unflags_a_host()
    {
        var table = Override("""
            sources:
              - source: chatgpt
                medium: ai
                remove: true
            not_spam: [semalt.com]
            spam:
              - reason: competitor
                hosts: [spam.example]
            """);
        Assert.Multiple(() =>
        {
            Assert.That(Classify(table, "https://chatgpt.com/").Medium, Is.EqualTo(ReferrerMedium.Referral));
            Assert.That(Classify(table, "https://semalt.com/").Medium, Is.EqualTo(ReferrerMedium.Referral));
            Assert.That(Classify(table, "https://x.spam.example/").Known?.SpamReason, Is.EqualTo("competitor"));
            Assert.That(table.SpamReasons, Does.Contain("competitor").And.Contain("seo-offer"));
        });
    }

    [Test]
    public void An_override_can_name_a_host_of_the_spam_list_as_a_site()
    {
        var table = Override("""
            sources:
              - source: darodar
                medium: referral
                hosts: [darodar.com]
            """);
        Assert.That(Classify(table, "https://darodar.com/").Medium, Is.EqualTo(ReferrerMedium.Referral));
    }

    [Test]
    public void Errors_of_a_bad_override_name_their_line_and_column()
    {
        var ex = Invalid("""
            version: "1"
            sources:
              - source: Acme
                medium: search
                hosts: [acme.example]
              - source: acme2
                medium: newspaper
                hosts: [acme2.example]
              - source: acme3
                medium: social
                keywords: [q]
                hosts: [www.acme3.example, "acme3.*.example", acme3.example/path?x]
              - source: acme4
                medium: paid
                hosts: [ads.acme4.example]
              - medium: email
                hosts: [mail.acme5.example]
              - source: acme6
                medium: email
                colour: blue
                hosts: [acme6.example, acme6.example]
            aliases:
              a7: nobody
            spam:
              - reason: Bad Reason
                hosts: [spam.example]
            colour: red
            """);
        var lines = ex.Errors.Select(e => (e.Line, e.Message.Split(':')[0])).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(ex.Errors.All(e => e.Origin == "override.yaml"));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 3 && e.Message.StartsWith("source: 'Acme'", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 7 && e.Message.Contains("'newspaper'", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 11 && e.Message.StartsWith("keywords: only search", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 12 && e.Message.Contains("'www.acme3.example'", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 12 && e.Message.Contains("'acme3.*.example'", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 12 && e.Message.Contains("path prefix", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 13 && e.Message.StartsWith("platform:", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 13 && e.Message.StartsWith("campaign_medium:", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 16 && e.Message.Contains("needs a 'source'", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 20 && e.Message.Contains("unknown key 'colour'", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 21 && e.Message.Contains("listed twice (first at line 21)", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 25 && e.Message.StartsWith("reason:", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 27 && e.Message.Contains("unknown key 'colour'", StringComparison.Ordinal)));
            Assert.That(ex.Message, Does.Contain("override.yaml:7:"));
        });
    }

    [Test]
    public void Consistency_errors_point_at_the_override_entry()
    {
        var ex = Invalid("""
            sources:
              - source: acme
                medium: search
                hosts: [acme.example]
              - source: acme
                medium: social
                hosts: [social.acme.example]
            aliases:
              ac: nobody
            not_spam: [example.org]
            """);
        Assert.Multiple(() =>
        {
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 5 && e.Message.Contains("both search and social", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 9 && e.Message.Contains("alias 'ac'", StringComparison.Ordinal)));
            Assert.That(ex.Errors, Has.Some.Matches<ReferrerTableError>(e => e.Line == 10 && e.Message.Contains("not on the spam list", StringComparison.Ordinal)));
        });
    }

    [Test]
    public void An_entry_defined_twice_in_one_file_is_an_error()
    {
        var ex = Invalid("""
            sources:
              - source: acme
                medium: search
                hosts: [acme.example]
              - source: acme
                medium: search
                hosts: [acme.example.org]
            """);
        Assert.That(ex.Errors.Single().Line, Is.EqualTo(5));
    }

    [Test]
    public void Removing_an_unknown_entry_is_an_error()
    {
        var ex = Invalid("""
            sources:
              - source: nobody
                medium: search
                remove: true
            """);
        Assert.That(ex.Errors.Single().Message, Does.Contain("nothing to remove"));
    }

    [Test]
    public void Yaml_syntax_errors_have_a_line()
    {
        var ex = Invalid("sources:\n  - source: a\n    hosts: [a.example\n");
        Assert.That(ex.Errors.Single().Line, Is.GreaterThan(1));
    }

    [Test]
    public void A_complete_table_needs_a_version()
    {
        var ex = Assert.Throws<ReferrerTableException>(() => ReferrerTable.Parse(new StringReader("sources: []\n"), "t.yaml"))!;
        Assert.That(ex.Errors.Single().Message, Does.StartWith("version: missing"));
    }

    [Test]
    public void A_missing_override_file_fails()
    {
        Assert.That(() => ReferrerTable.BuiltIn.WithOverride("/nonexistent/referrers.yaml"), Throws.InstanceOf<IOException>());
    }

    [Test]
    public void The_built_in_resource_is_the_file_in_the_repository()
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", "..", "collector", "TouchpointTracker.Enrichment", "Referrers", "referrers.yaml");
        if (!File.Exists(path))
        {
            Assert.Ignore("repository file not found from the test directory");
        }

        using var reader = File.OpenText(path);
        Assert.That(ReferrerTable.Parse(reader, path).Version, Is.EqualTo(ReferrerTable.BuiltIn.Version));
    }
}
