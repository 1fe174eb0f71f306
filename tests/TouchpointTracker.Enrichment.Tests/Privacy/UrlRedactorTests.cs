using TouchpointTracker.Enrichment.Campaigns;
using TouchpointTracker.Enrichment.Privacy;

namespace TouchpointTracker.Enrichment.Tests.Privacy;

public class UrlRedactorTests
{
    private static readonly UrlRedactor Default = UrlRedactor.Default;
    private static readonly UrlRedactor AllowList = new(UrlRedactor.DefaultParameters, redactEmails: true, keepOnlyAllowed: true, ["page"], ClickIdRegistry.Default);

    [TestCase("https://a.example/?email=alice%40example.com&utm_source=x", "https://a.example/?email=redacted&utm_source=x")]
    [TestCase("https://a.example/p?EMAIL=a&Token=abc&q=shoes", "https://a.example/p?EMAIL=redacted&Token=redacted&q=shoes")]
    [TestCase("https://a.example/?to=alice%40example.com", "https://a.example/?to=redacted")]
    [TestCase("https://a.example/?to=bob@mail.example.org&x=1#top", "https://a.example/?to=redacted&x=1#top")]
    [TestCase("https://a.example/?password", "https://a.example/?password=redacted")]
    [TestCase("https://a.example/?phone=%2B33612345678&utm_content=carol%40example.fr", "https://a.example/?phone=redacted&utm_content=redacted")]
    public void Redacts_configured_names_and_email_addresses(string url, string expected) =>
        Assert.That(Default.Redact(url, ownPage: true), Is.EqualTo(expected));

    [TestCase("https://a.example/")]
    [TestCase("https://a.example/?q=shoes&utm_source=news")]
    [TestCase("https://a.example/?handle=%40alice&at=@")]
    [TestCase("https://a.example/?email=redacted")]
    [TestCase("https://a.example/users/alice/#email=x")]
    public void Leaves_a_url_without_personal_data_as_the_same_string(string url) =>
        Assert.That(Default.Redact(url, ownPage: true), Is.SameAs(url));

    [Test]
    public void Allow_list_mode_keeps_only_campaign_click_ids_and_configured_parameters_on_own_pages()
    {
        const string url = "https://a.example/p?utm_source=news&gclid=abc&page=2&ref=partner&email=a%40b.example&x=1";
        Assert.Multiple(() =>
        {
            Assert.That(AllowList.Redact(url, ownPage: true), Is.EqualTo("https://a.example/p?utm_source=news&gclid=abc&page=2"));
            Assert.That(AllowList.Redact("https://a.example/p?x=1&y=2", ownPage: true), Is.EqualTo("https://a.example/p"));
            Assert.That(AllowList.Redact("https://www.bing.com/search?q=shoes&email=a%40b.example", ownPage: false),
                Is.EqualTo("https://www.bing.com/search?q=shoes&email=redacted"), "a referrer keeps its search term and gets the redaction rules");
        });
    }

    [TestCase("alice@example.com", true)]
    [TestCase("alice%40example.com", true)]
    [TestCase("x%20alice.b%40mail.example.org", true)]
    [TestCase("%40alice", false)]
    [TestCase("alice@localhost", false)]
    [TestCase("100%25", false)]
    [TestCase("", false)]
    public void Finds_email_addresses_in_encoded_values(string value, bool expected) =>
        Assert.That(UrlRedactor.HoldsEmail(value), Is.EqualTo(expected));
}
