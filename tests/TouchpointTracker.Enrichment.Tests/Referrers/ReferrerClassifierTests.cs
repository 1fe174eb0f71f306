using TouchpointTracker.Enrichment.Referrers;
using TouchpointTracker.Enrichment.Urls;

namespace TouchpointTracker.Enrichment.Tests.Referrers;

public class ReferrerClassifierTests
{
    private static ReferrerClassification Classify(string referrer, string pageHost = "www.shop.example", params string[] domains) =>
        ReferrerClassifier.Default.Classify(UrlParser.Parse(referrer), pageHost, new SiteDomains(domains));

    // Search engines, including the ones the French market uses.
    [TestCase("https://www.google.com/", "google")]
    [TestCase("https://www.google.fr/", "google")]
    [TestCase("https://www.google.co.uk/", "google")]
    [TestCase("https://www.google.com.br/search?q=x", "google")]
    [TestCase("https://google.de/", "google")]
    [TestCase("https://www.google.co.jp/", "google")]
    [TestCase("android-app://com.google.android.googlequicksearchbox/", "google")]
    [TestCase("https://www.bing.com/search?q=x", "bing")]
    [TestCase("https://cn.bing.com/", "bing")]
    [TestCase("https://fr.search.yahoo.com/search?p=x", "yahoo")]
    [TestCase("https://search.yahoo.co.jp/search?p=x", "yahoo")]
    [TestCase("https://www.qwant.com/?q=x", "qwant")]
    [TestCase("https://lite.qwant.com/", "qwant")]
    [TestCase("https://www.ecosia.org/search?q=x", "ecosia")]
    [TestCase("https://duckduckgo.com/", "duckduckgo")]
    [TestCase("https://yandex.ru/search/?text=x", "yandex")]
    [TestCase("https://yandex.com.tr/", "yandex")]
    [TestCase("https://ya.ru/", "yandex")]
    [TestCase("https://www.baidu.com/s?wd=x", "baidu")]
    [TestCase("https://m.baidu.com/", "baidu")]
    [TestCase("https://search.naver.com/search.naver?query=x", "naver")]
    [TestCase("https://search.seznam.cz/?q=x", "seznam")]
    [TestCase("https://www.ask.com/web?q=x", "ask")]
    [TestCase("https://search.brave.com/search?q=x", "brave")]
    [TestCase("https://www.startpage.com/", "startpage")]
    [TestCase("https://search.lilo.org/?q=x", "lilo")]
    [TestCase("https://www.sogou.com/web?query=x", "sogou")]
    [TestCase("https://www.so.com/s?q=x", "so.com")]
    [TestCase("https://search.daum.net/search?q=x", "daum")]
    [TestCase("https://search.aol.com/aol/search?q=x", "aol")]
    [TestCase("https://lemoteur.orange.fr/?kw=x", "orange")]
    public void Recognises_search_engines(string referrer, string source)
    {
        var c = Classify(referrer);
        Assert.That((c.Medium, c.Source), Is.EqualTo((ReferrerMedium.Search, source)));
    }

    [TestCase("https://www.facebook.com/", "facebook")]
    [TestCase("https://l.facebook.com/l.php?u=x", "facebook")]
    [TestCase("https://m.facebook.com/", "facebook")]
    [TestCase("https://lm.facebook.com/", "facebook")]
    [TestCase("https://l.instagram.com/", "instagram")]
    [TestCase("https://www.linkedin.com/feed/", "linkedin")]
    [TestCase("https://lnkd.in/abc", "linkedin")]
    [TestCase("android-app://com.linkedin.android/", "linkedin")]
    [TestCase("https://t.co/abc", "x")]
    [TestCase("https://twitter.com/", "x")]
    [TestCase("https://x.com/", "x")]
    [TestCase("https://out.reddit.com/", "reddit")]
    [TestCase("https://www.pinterest.fr/", "pinterest")]
    [TestCase("https://pinterest.co.uk/", "pinterest")]
    [TestCase("https://www.tiktok.com/", "tiktok")]
    [TestCase("https://web.whatsapp.com/", "whatsapp")]
    [TestCase("https://t.me/channel", "telegram")]
    [TestCase("https://www.snapchat.com/", "snapchat")]
    [TestCase("https://www.quora.com/", "quora")]
    [TestCase("https://mastodon.social/@someone", "mastodon")]
    [TestCase("https://vk.com/", "vk")]
    [TestCase("https://www.viadeo.com/", "viadeo")]
    [TestCase("https://news.ycombinator.com/", "hackernews")]
    [TestCase("https://blog.naver.com/post", "blog.naver.com")]
    public void Recognises_social_networks(string referrer, string source)
    {
        var c = Classify(referrer);
        Assert.That((c.Medium, c.Source), Is.EqualTo((ReferrerMedium.Social, source)));
    }

    [TestCase("https://www.youtube.com/watch?v=1", "youtube")]
    [TestCase("https://m.youtube.com/", "youtube")]
    [TestCase("https://youtu.be/abc", "youtube")]
    [TestCase("https://vimeo.com/1", "vimeo")]
    [TestCase("https://www.twitch.tv/x", "twitch")]
    [TestCase("https://www.dailymotion.com/video/x", "dailymotion")]
    public void Recognises_video_platforms(string referrer, string source)
    {
        var c = Classify(referrer);
        Assert.That((c.Medium, c.Source), Is.EqualTo((ReferrerMedium.Video, source)));
    }

    [TestCase("https://mail.google.com/mail/u/0/", "gmail")]
    [TestCase("android-app://com.google.android.gm/", "gmail")]
    [TestCase("https://outlook.live.com/mail/0/", "outlook")]
    [TestCase("https://outlook.office.com/", "outlook")]
    [TestCase("https://mail.yahoo.com/d/folders/1", "yahoo mail")]
    [TestCase("https://fr.mail.yahoo.com/", "yahoo mail")]
    [TestCase("https://mail.yahoo.co.jp/", "yahoo mail")]
    [TestCase("https://mail.proton.me/u/0/inbox", "proton mail")]
    [TestCase("https://zimbra.free.fr/", "free")]
    [TestCase("https://webmail.sfr.fr/", "sfr")]
    [TestCase("https://webmail.example.be/", "webmail.example.be")]
    [TestCase("https://e.mail.ru/inbox/", "mail.ru")]
    public void Recognises_webmail(string referrer, string source)
    {
        var c = Classify(referrer);
        Assert.That((c.Medium, c.Source), Is.EqualTo((ReferrerMedium.Email, source)));
    }

    [TestCase("https://www.amazon.fr/dp/B0", "amazon")]
    [TestCase("https://www.amazon.co.uk/", "amazon")]
    [TestCase("https://www.ebay.de/", "ebay")]
    [TestCase("https://www.etsy.com/listing/1", "etsy")]
    [TestCase("https://shopping.google.com/", "google shopping")]
    [TestCase("https://shopping.google.fr/", "google shopping")]
    [TestCase("https://www.cdiscount.com/", "cdiscount")]
    [TestCase("https://www.leboncoin.fr/", "leboncoin")]
    [TestCase("https://fr.aliexpress.com/", "aliexpress")]
    public void Recognises_shopping_sites(string referrer, string source)
    {
        var c = Classify(referrer);
        Assert.That((c.Medium, c.Source), Is.EqualTo((ReferrerMedium.Shopping, source)));
    }

    [TestCase("https://docs.google.com/document/d/1", "docs.google.com")]
    [TestCase("https://aws.amazon.com/", "aws.amazon.com")]
    [TestCase("https://www.blog.example.org/post", "blog.example.org")]
    [TestCase("https://www.lemonde.fr/article", "lemonde.fr")]
    [TestCase("https://google.example.com/", "google.example.com")]
    [TestCase("https://www.mygoogle.com/", "mygoogle.com")]
    [TestCase("https://notfacebook.com/", "notfacebook.com")]
    public void Other_sites_are_referrals(string referrer, string source)
    {
        var c = Classify(referrer);
        Assert.That((c.Medium, c.Source), Is.EqualTo((ReferrerMedium.Referral, source)));
    }

    [TestCase("https://www.shop.example/cart", "www.shop.example")]
    [TestCase("https://shop.example/", "www.shop.example")]
    [TestCase("https://blog.shop.example/", "www.shop.example")]
    [TestCase("https://WWW.SHOP.EXAMPLE/", "shop.example")]
    public void Same_site_is_internal(string referrer, string pageHost)
    {
        var c = Classify(referrer, pageHost);
        Assert.Multiple(() =>
        {
            Assert.That(c.Medium, Is.EqualTo(ReferrerMedium.Internal));
            Assert.That(c.Source, Is.Null);
            Assert.That(c.IsExternal, Is.False);
        });
    }

    [TestCase("https://www.example.fr/", "example.fr")]
    [TestCase("https://checkout.example.fr/", "example.fr")]
    [TestCase("https://m.example.de/", "*.example.de")]
    [TestCase("https://example.de/", "https://www.example.de/")]
    public void Configured_site_domains_and_their_subdomains_are_internal(string referrer, string domain)
    {
        Assert.That(Classify(referrer, "www.example.com", domain).Medium, Is.EqualTo(ReferrerMedium.Internal));
    }

    [TestCase("https://notexample.fr/")]
    [TestCase("https://example.fr.evil.com/")]
    public void Lookalikes_are_not_internal(string referrer)
    {
        Assert.That(Classify(referrer, "www.example.com", "example.fr").Medium, Is.EqualTo(ReferrerMedium.Referral));
    }

    [TestCase("https://www.bing.com/search?q=chaussures+running", "chaussures running")]
    [TestCase("https://fr.search.yahoo.com/search?fr=x&p=meilleur%20crm", "meilleur crm")]
    [TestCase("https://www.baidu.com/s?ie=utf-8&wd=%E6%89%8B%E6%9C%BA", "手机")]
    [TestCase("https://www.baidu.com/s?word=abc", "abc")]
    [TestCase("https://yandex.ru/search/?text=%D0%BA%D1%80%D0%BC", "крм")]
    [TestCase("https://search.naver.com/search.naver?where=nexearch&query=crm", "crm")]
    [TestCase("https://www.sogou.com/web?query=crm", "crm")]
    [TestCase("https://duckduckgo.com/?q=prix+logiciel", "prix logiciel")]
    [TestCase("https://www.qwant.com/?q=comparatif&t=web", "comparatif")]
    [TestCase("https://www.ecosia.org/search?method=index&q=avis", "avis")]
    [TestCase("https://www.google.com/search?Q=upper", "upper")]
    [TestCase("https://www.google.com/", null)]
    [TestCase("https://www.google.com/url?q=https://www.shop.example/&sa=U", null)]
    [TestCase("https://www.bing.com/search?q=", null)]
    public void Extracts_search_keywords(string referrer, string? term)
    {
        Assert.That(Classify(referrer).Term, Is.EqualTo(term));
    }

    // Keyword extraction for every engine of the table that carries one (and the shopping sites that do).
    [TestCase("https://www.google.fr/search?q=logiciel+crm", "logiciel crm")]
    [TestCase("https://www.yahoo.com/search?p=crm", "crm")]
    [TestCase("https://search.seznam.cz/?q=crm", "crm")]
    [TestCase("https://www.ask.com/web?q=crm+gratuit", "crm gratuit")]
    [TestCase("https://search.ask.com/web?searchfor=crm+gratuit&tpr=1", "crm gratuit")]
    [TestCase("https://search.ask.com/web?query=avis", "avis")]
    [TestCase("https://search.brave.com/search?q=crm", "crm")]
    [TestCase("https://www.startpage.com/do/search?query=crm", "crm")]
    [TestCase("https://www.startpage.com/sp/search?q=crm", "crm")]
    [TestCase("https://search.lilo.org/?q=crm", "crm")]
    [TestCase("https://www.sogou.com/web?keyword=crm", "crm")]
    [TestCase("https://www.so.com/s?q=crm", "crm")]
    [TestCase("https://search.daum.net/search?q=crm", "crm")]
    [TestCase("https://search.aol.com/aol/search?q=crm", "crm")]
    [TestCase("https://search.aol.com/aol/search?query=logiciel", "logiciel")]
    [TestCase("https://www.mojeek.com/search?q=crm", "crm")]
    [TestCase("https://kagi.com/search?q=crm", "crm")]
    [TestCase("https://yep.com/web?q=crm", "crm")]
    [TestCase("https://swisscows.com/web?query=logiciel", "logiciel")]
    [TestCase("https://www.search.ch/?q=z%C3%BCrich", "zürich")]
    [TestCase("https://presearch.com/search?q=crm", "crm")]
    [TestCase("https://www.petalsearch.com/search?query=crm", "crm")]
    [TestCase("https://coccoc.com/search?query=crm", "crm")]
    [TestCase("https://go.mail.ru/search?q=crm", "crm")]
    [TestCase("https://nova.rambler.ru/search?query=crm", "crm")]
    [TestCase("https://search.lycos.com/web/?q=crm", "crm")]
    [TestCase("https://www.dogpile.com/serp?q=crm", "crm")]
    [TestCase("https://metager.de/meta/meta.ger3?eingabe=software", "software")]
    [TestCase("https://lemoteur.orange.fr/?module=orange&kw=assurance+auto", "assurance auto")]
    [TestCase("https://search.ke.voila.fr/S/voila?rdata=&kw=m%C3%A9t%C3%A9o", "météo")]
    [TestCase("https://you.com/search?q=crm", "crm")]
    [TestCase("https://meta.ua/search/?q=crm", "crm")]
    [TestCase("https://suche.1und1.de/web?q=versicherung", "versicherung")]
    [TestCase("https://suche.gmx.net/web?origin=HP&q=versicherung", "versicherung")]
    [TestCase("https://suche.web.de/web?q=versicherung", "versicherung")]
    [TestCase("https://suche.t-online.de/fast-cgi/tsc?q=versicherung", "versicherung")]
    [TestCase("https://www.qwantjunior.com/?q=dinosaures", "dinosaures")]
    [TestCase("https://yandex.fr/search/?text=crm", "crm")]
    [TestCase("https://www.pricerunner.com/search?q=tv+55", "tv 55")]
    [TestCase("https://www.idealo.de/preisvergleich/MainSearchProductCategory.html?q=fernseher", "fernseher")]
    [TestCase("https://www.amazon.fr/s?k=chaussures", "chaussures")]
    [TestCase("https://www.ebay.de/sch/i.html?_nkw=fahrrad", "fahrrad")]
    [TestCase("https://www.etsy.com/search?q=bijoux", "bijoux")]
    [TestCase("https://geizhals.at/?fs=ssd", "ssd")]
    [TestCase("https://shopping.google.fr/search?q=velo", "velo")]
    public void Extracts_keywords_of_every_engine_that_carries_one(string referrer, string term)
    {
        Assert.That(Classify(referrer).Term, Is.EqualTo(term));
    }

    [TestCase("https://chatgpt.com/?q=x")]
    [TestCase("https://deref-gmx.net/mail/client/x/dereferrer/?redirectUrl=https%3A%2F%2Fshop.example%2F")]
    [TestCase("https://googleads.g.doubleclick.net/pagead/ads?q=x")]
    [TestCase("https://l.workplace.com/l.php?u=x&q=y")]
    public void Sites_without_keyword_parameters_give_none(string referrer)
    {
        Assert.That(Classify(referrer).Term, Is.Null);
    }

    [Test]
    public void Non_search_sites_have_no_keyword()
    {
        Assert.That(Classify("https://www.facebook.com/?q=x").Term, Is.Null);
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("about:blank")]
    [TestCase("not a url")]
    public void Missing_or_unusable_referrer_is_none(string? referrer)
    {
        Assert.That(ReferrerClassifier.Default.Classify(UrlParser.Parse(referrer), "x.example", SiteDomains.None), Is.EqualTo(ReferrerClassification.None));
    }
}
