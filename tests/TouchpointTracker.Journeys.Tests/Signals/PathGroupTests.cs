using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.Journeys.Signals;

namespace TouchpointTracker.Journeys.Tests.Signals;

/// <summary>
/// Path groups of the default rules on the shapes real sites have: page extensions, trailing slashes,
/// locale prefixes, front controllers and CMS query parameters.
/// </summary>
public sealed class PathGroupTests
{
    private static readonly PathGroups Groups = StageEngine.CreateDefault().PathGroups;

    private static string[] GroupsOf(string path, string? query = null) => [.. Groups.NamesOf(Groups.Classify(path, query))];

    [TestCase("/pricing", "pricing")]
    [TestCase("/pricing.html", "pricing")]
    [TestCase("/pricing.htm", "pricing")]
    [TestCase("/pricing.php", "pricing")]
    [TestCase("/Pricing.ASPX", "pricing")]
    [TestCase("/pricing.asp", "pricing")]
    [TestCase("/pricing.jsp", "pricing")]
    [TestCase("/pricing/", "pricing")]
    [TestCase("/pricing/index.html", "pricing")]
    [TestCase("/contact.html", "contact_demo")]
    [TestCase("/contact-us.php", "contact_demo")]
    [TestCase("/fr/tarifs", "pricing")]
    [TestCase("/fr/tarifs.html", "pricing")]
    [TestCase("/en-gb/pricing/", "pricing")]
    [TestCase("/de-ch/preise", "pricing")]
    [TestCase("/de/kontakt.php", "contact_demo")]
    [TestCase("/es/precios", "pricing")]
    [TestCase("/it/carrello", "cart")]
    [TestCase("/pt_BR/checkout", "checkout")]
    [TestCase("/index.php/contact", "contact_demo")]
    [TestCase("/index.php/blog/how-to-start", "content")]
    [TestCase("/blog/post.html", "content")]
    [TestCase("/book-a-demo.html", "contact_demo")]
    public void A_page_is_in_the_group_of_its_clean_path(string path, string group) =>
        Assert.That(GroupsOf(path), Does.Contain(group), path);

    [TestCase("/", "pagename=pricing", "pricing")]
    [TestCase("/index.php", "route=checkout/cart", "cart")]
    [TestCase("/index.php", "route=checkout%2Fcheckout&language=en-gb", "checkout")]
    [TestCase("/", "page=contact&utm_source=x", "contact_demo")]
    public void A_CMS_root_url_is_in_the_group_its_page_parameter_names(string path, string query, string group) =>
        Assert.That(GroupsOf(path, query), Does.Contain(group), path + "?" + query);

    [TestCase("/pricing-calculator.html")]
    [TestCase("/blog-pricing")]
    [TestCase("/vs-code")]
    [TestCase("/files/pricing.pdf")]
    [TestCase("/")]
    public void Other_pages_stay_out_of_the_pricing_group(string path) =>
        Assert.That(GroupsOf(path), Does.Not.Contain("pricing"), path);

    [Test]
    public void A_plain_demo_folder_is_not_a_demo_request() => // the collector's own demo site lives under /demo/
        Assert.That(GroupsOf("/demo/"), Is.Empty);

    [Test]
    public void The_query_of_a_page_that_is_not_a_root_url_is_not_read() =>
        Assert.That(GroupsOf("/blog", "page=pricing"), Is.EqualTo(new[] { "content" }));

    [Test]
    public void A_numeric_wordpress_page_id_can_be_named_by_a_site_pattern()
    {
        var yaml = StageRulesLoader.DefaultText().Replace(
            "pricing: ['(^|/)(pricing", "pricing: ['page_id=42$', '(^|/)(pricing", StringComparison.Ordinal);
        var groups = StageRulesLoader.Parse(yaml, "test").PathGroups;
        Assert.Multiple(() =>
        {
            Assert.That(groups.NamesOf(groups.Classify("/", "page_id=42")), Does.Contain("pricing"));
            Assert.That(groups.NamesOf(groups.Classify("/", "page_id=421")), Does.Not.Contain("pricing"));
            Assert.That(StageEngine.CreateDefault().PathGroups.Classify("/", "page_id=42"), Is.Zero, "the default rules name no page id");
        });
    }

    [TestCase("/fr/tarifs.html", null, "/tarifs")]
    [TestCase("/en-gb/pricing/", null, "/pricing")]
    [TestCase("/zh-hans/", null, "/")]
    [TestCase("/index.php/contact/", null, "/contact")]
    [TestCase("/docs/index.html", null, "/docs")]
    [TestCase("/default.aspx", null, "/")]
    [TestCase("/vs/hubspot", null, "/vs/hubspot")]
    [TestCase("/blog", null, "/blog")]
    [TestCase("/", "checkout/cart", "/checkout/cart")]
    [TestCase("/", "42", "/")]
    public void Normal_form(string path, string? cmsPage, string expected) =>
        Assert.That(PathGroups.Normalise(path, cmsPage), Is.EqualTo(expected));

    [Test]
    public void A_classified_path_is_served_from_the_cache_without_allocating()
    {
        Groups.Classify("/pricing.html", "utm_source=x");
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            Groups.Classify("/pricing.html", "utm_source=x");
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
