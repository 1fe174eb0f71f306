using FsCheck;
using FsCheck.Fluent;
using TouchpointTracker.Collector.Ingest;

namespace TouchpointTracker.Collector.Tests;

/// <summary>
/// The session referrer's same-origin check answers without parsing the landing URL when it can prove the referrer is
/// of another origin; whatever the URLs, it must answer exactly as parsing both with <see cref="Uri"/> does.
/// </summary>
public class ExternalReferrerPropertyTests
{
    /// <summary>The check as it was before the shortcut: the landing URL parsed with <see cref="Uri"/>.</summary>
    private static string? Parsed(string? landingUrl, string? referrer)
    {
        if (string.IsNullOrEmpty(referrer))
        {
            return null;
        }
        return Uri.TryCreate(landingUrl, UriKind.Absolute, out var landing)
            && landing.Scheme is "http" or "https"
            && referrer.StartsWith(landing.Scheme + "://" + landing.Authority + "/", StringComparison.OrdinalIgnoreCase)
            ? null
            : referrer;
    }

    private static readonly string[] Schemes = ["https://", "http://", "HTTPS://", "Http://", "ftp://", "android-app://", "", "https:/", "https:\\\\"];
    private static readonly string[] UserInfo = ["", "", "", "u@", "u:p@", "shop.example@"];
    private static readonly string[] Hosts =
    [
        "shop.example", "Shop.Example", "SHOP.EXAMPLE", "blog.shop.example", "shop.example.evil.example", "shop.example.", "www.google.com",
        "127.0.0.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "[::1]", "[fe80::a]", "xn--n3h.example", "b\u00fccher.example", "sh%6Fp.example",
        "shop..example", "-shop.example", "shop_example", "a", "1a", "", " shop.example", "shop.example\t",
    ];
    private static readonly string[] Ports = ["", "", "", ":443", ":0443", ":80", ":8443", ":08443", ":", ":99999", ":x"];
    private static readonly string[] Paths = ["/", "/p?utm_source=news&x=1", "", "?q=1", "#f", "\\p", "/%41", "/\u00e4", "/a b", "/shop.example/", "?ref=www.google.com"];

    private static Gen<string> Url =>
        from scheme in Gen.Elements(Schemes)
        from user in Gen.Elements(UserInfo)
        from host in Gen.Elements(Hosts)
        from port in Gen.Elements(Ports)
        from path in Gen.Elements(Paths)
        select scheme + user + host + port + path;

    private static Gen<string?> MaybeUrl => Gen.Frequency((12, Url.Select(u => (string?)u)), (1, Gen.Constant<string?>(null)), (1, Gen.Constant<string?>("")));

    [Test]
    public void The_shortcut_answers_as_parsing_the_landing_url_does()
    {
        Prop.ForAll(MaybeUrl.ToArbitrary(), MaybeUrl.ToArbitrary(), (landing, referrer) =>
                TouchpointFactory.ExternalReferrer(landing, referrer) == Parsed(landing, referrer))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(20_000));
    }

    [Test]
    public void The_same_host_written_alike_is_never_taken_for_another_origin()
    {
        // The cases the shortcut must leave to Uri: every referrer of the landing's own origin.
        foreach (var (landing, referrer) in new[]
                 {
                     ("https://shop.example/p", "https://shop.example/home"),
                     ("https://Shop.Example:443/p", "https://shop.example/home"),
                     ("https://shop.example:08443/p", "https://shop.example:8443/home"),
                     ("https://u@shop.example/p", "HTTPS://SHOP.EXAMPLE/x"),
                 })
        {
            Assert.That(TouchpointFactory.CannotBeTheLandingOrigin(landing, referrer), Is.False, $"{landing} / {referrer}");
            Assert.That(TouchpointFactory.ExternalReferrer(landing, referrer), Is.Null, $"{landing} / {referrer}");
        }
        Assert.That(TouchpointFactory.CannotBeTheLandingOrigin("https://shop.example/p?utm_source=news", "https://www.google.com/"), Is.True, "the everyday case takes the shortcut");
    }
}
