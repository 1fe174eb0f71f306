namespace TouchpointTracker.Enrichment.Referrers;

/// <summary>
/// The project's own table of well-known referrer sites, written from public facts (the sites' own
/// host names and the query parameter each search engine uses for the keyword). Patterns are host
/// suffixes ("facebook.com" also matches "l.facebook.com"), brands with any public suffix
/// ("google.*"), or Android app ids as sent in <c>android-app://</c> referrers. The most specific
/// pattern wins, so "mail.google.com" (email) beats "google.*" (search).
/// </summary>
public static class ReferrerTable
{
    /// <summary>One table row: a source, its medium, keyword parameters and host patterns.</summary>
    /// <param name="Source">Normalised source name, or null to report the referrer host itself.</param>
    /// <param name="Medium">Kind of site.</param>
    /// <param name="KeywordParameters">Search keyword parameters (search engines only).</param>
    /// <param name="Hosts">Host patterns.</param>
    public sealed record Row(string? Source, ReferrerMedium Medium, string[] KeywordParameters, string[] Hosts);

    private static Row Search(string source, string[] keywords, params string[] hosts) => new(source, ReferrerMedium.Search, keywords, hosts);

    private static Row Social(string? source, params string[] hosts) => new(source, ReferrerMedium.Social, [], hosts);

    private static Row Video(string source, params string[] hosts) => new(source, ReferrerMedium.Video, [], hosts);

    private static Row Email(string? source, params string[] hosts) => new(source, ReferrerMedium.Email, [], hosts);

    private static Row Shopping(string? source, params string[] hosts) => new(source, ReferrerMedium.Shopping, [], hosts);

    private static Row Referral(string? source, params string[] hosts) => new(source, ReferrerMedium.Referral, [], hosts);

    /// <summary>All rows.</summary>
    public static IReadOnlyList<Row> Rows { get; } =
    [
        // ---- Search engines ------------------------------------------------------------------
        Search("google", ["q"], "google.*", "com.google.android.googlequicksearchbox"),
        Search("bing", ["q"], "bing.com", "com.microsoft.bing"),
        Search("yahoo", ["p"], "yahoo.*"),
        Search("duckduckgo", ["q"], "duckduckgo.com", "com.duckduckgo.mobile.android"),
        Search("ecosia", ["q"], "ecosia.org", "com.ecosia.android"),
        Search("qwant", ["q"], "qwant.com"),
        Search("yandex", ["text"], "yandex.*", "ya.ru"),
        Search("baidu", ["wd", "word"], "baidu.com"),
        Search("naver", ["query"], "naver.com"),
        Search("seznam", ["q"], "seznam.cz"),
        Search("ask", ["q"], "ask.com"),
        Search("brave", ["q"], "search.brave.com"),
        Search("startpage", ["query", "q"], "startpage.com", "ixquick.com"),
        Search("lilo", ["q"], "lilo.org"),
        Search("sogou", ["query", "keyword"], "sogou.com"),
        Search("so.com", ["q"], "so.com"),
        Search("daum", ["q"], "daum.net"),
        Search("aol", ["q", "query"], "aol.*"),
        Search("mojeek", ["q"], "mojeek.com"),
        Search("kagi", ["q"], "kagi.com"),
        Search("yep", ["q"], "yep.com"),
        Search("swisscows", ["query"], "swisscows.com"),
        Search("presearch", ["q"], "presearch.com"),
        Search("petal", ["query"], "petalsearch.com"),
        Search("coccoc", ["query"], "coccoc.com"),
        Search("mail.ru", ["q"], "go.mail.ru"),
        Search("rambler", ["query"], "nova.rambler.ru"),
        Search("lycos", ["q", "query"], "search.lycos.com"),
        Search("dogpile", ["q"], "dogpile.com"),
        Search("metager", ["eingabe"], "metager.org", "metager.de"),
        Search("orange", ["kw"], "lemoteur.orange.fr"),
        Search("you.com", ["q"], "you.com"),

        // Google and other portal hosts that are not search results pages.
        Referral(null,
            "accounts.google.com", "docs.google.com", "drive.google.com", "sites.google.com", "groups.google.com",
            "support.google.com", "developers.google.com", "cloud.google.com", "calendar.google.com", "meet.google.com",
            "chat.google.com", "classroom.google.com", "play.google.com", "translate.google.com", "analytics.google.com",
            "ads.google.com", "tagassistant.google.com", "lookerstudio.google.com", "business.google.com",
            "myaccount.google.com", "news.google.com", "aws.amazon.com"),

        // AI assistants: referrals, but under a stable name.
        Referral("chatgpt", "chatgpt.com", "chat.openai.com"),
        Referral("perplexity", "perplexity.ai"),
        Referral("gemini", "gemini.google.com"),
        Referral("claude", "claude.ai"),
        Referral("copilot", "copilot.microsoft.com"),
        Referral("mistral", "chat.mistral.ai"),
        Referral("deepseek", "chat.deepseek.com"),

        // ---- Social networks and messengers -------------------------------------------------
        Social("facebook", "facebook.com", "fb.com", "fb.me", "com.facebook.katana", "com.facebook.lite"),
        Social("messenger", "messenger.com", "m.me", "com.facebook.orca"),
        Social("instagram", "instagram.com", "com.instagram.android"),
        Social("linkedin", "linkedin.com", "lnkd.in", "com.linkedin.android"),
        Social("x", "twitter.com", "x.com", "t.co", "com.twitter.android"),
        Social("reddit", "reddit.com", "redd.it", "com.reddit.frontpage"),
        Social("pinterest", "pinterest.*", "pin.it", "com.pinterest"),
        Social("tiktok", "tiktok.com", "com.zhiliaoapp.musically", "com.ss.android.ugc.trill"),
        Social("snapchat", "snapchat.com", "com.snapchat.android"),
        Social("quora", "quora.com"),
        Social("vk", "vk.com", "vk.ru", "vkontakte.ru"),
        Social("odnoklassniki", "ok.ru", "odnoklassniki.ru"),
        Social("viadeo", "viadeo.com"),
        Social("threads", "threads.net", "threads.com"),
        Social("bluesky", "bsky.app"),
        Social("mastodon", "mastodon.social", "mastodon.online"),
        Social("whatsapp", "whatsapp.com", "wa.me", "com.whatsapp"),
        Social("telegram", "t.me", "telegram.org", "telegram.me", "org.telegram.messenger"),
        Social("discord", "discord.com", "discord.gg", "discordapp.com"),
        Social("tumblr", "tumblr.com"),
        Social("weibo", "weibo.com", "weibo.cn"),
        Social("wechat", "weixin.qq.com"),
        Social("line", "line.me"),
        Social("xing", "xing.com"),
        Social("hackernews", "news.ycombinator.com"),
        Social("skyrock", "skyrock.com"),
        Social("slack", "slack.com", "com.slack"),
        Social("nextdoor", "nextdoor.com"),
        Social("flickr", "flickr.com"),
        Social("meetup", "meetup.com"),
        Social("medium", "medium.com"),
        Social("douban", "douban.com"),
        Social("kakaostory", "story.kakao.com"),
        Social(null, "blog.naver.com", "cafe.naver.com", "cafe.daum.net"),

        // ---- Video ---------------------------------------------------------------------------
        Video("youtube", "youtube.com", "youtu.be", "youtube-nocookie.com", "com.google.android.youtube"),
        Video("vimeo", "vimeo.com"),
        Video("twitch", "twitch.tv"),
        Video("dailymotion", "dailymotion.com", "dai.ly"),
        Video("wistia", "wistia.com", "wistia.net"),
        Video("netflix", "netflix.com"),
        Video("bilibili", "bilibili.com", "b23.tv"),
        Video("rutube", "rutube.ru"),
        Video("youku", "youku.com"),
        Video("iqiyi", "iqiyi.com"),
        Video("niconico", "nicovideo.jp"),
        Video("kick", "kick.com"),

        // ---- Webmail -------------------------------------------------------------------------
        Email("gmail", "mail.google.com", "inbox.google.com", "com.google.android.gm"),
        Email("outlook", "outlook.live.com", "outlook.office.com", "outlook.office365.com", "mail.live.com", "com.microsoft.office.outlook"),
        Email("yahoo mail", "mail.yahoo.*"),
        Email("aol mail", "mail.aol.com"),
        Email("proton mail", "mail.proton.me", "mail.protonmail.com"),
        Email("yandex mail", "mail.yandex.*"),
        Email("zoho mail", "mail.zoho.*"),
        Email("gmx", "gmx.*"),
        Email("web.de", "navigator.web.de"),
        Email("laposte", "laposte.net"),
        Email("free", "zimbra.free.fr"),
        Email("fastmail", "fastmail.com"),
        Email("tuta", "tuta.com", "mail.tutanota.com"),
        Email("posteo", "posteo.de"),
        Email("mail.com", "mail.com"),
        Email(null, "e.mail.ru", "mail.qq.com", "mail.163.com", "mail.126.com", "mail.naver.com", "mail.daum.net", "email.seznam.cz"),

        // ---- Shopping ------------------------------------------------------------------------
        Shopping("google shopping", "shopping.google.*"),
        Shopping("amazon", "amazon.*", "amzn.to", "amzn.eu"),
        Shopping("ebay", "ebay.*"),
        Shopping("etsy", "etsy.com"),
        Shopping("walmart", "walmart.com"),
        Shopping("aliexpress", "aliexpress.*"),
        Shopping("alibaba", "alibaba.com"),
        Shopping("rakuten", "rakuten.*"),
        Shopping("cdiscount", "cdiscount.com"),
        Shopping("fnac", "fnac.com"),
        Shopping("darty", "darty.com"),
        Shopping("leboncoin", "leboncoin.fr"),
        Shopping("vinted", "vinted.*"),
        Shopping("zalando", "zalando.*"),
        Shopping("manomano", "manomano.*"),
        Shopping("otto", "otto.de"),
        Shopping("allegro", "allegro.pl"),
        Shopping("mercadolibre", "mercadolibre.*", "mercadolivre.com.br"),
        Shopping("idealo", "idealo.*"),
        Shopping("kelkoo", "kelkoo.*"),
        Shopping("ledenicheur", "ledenicheur.fr"),
        Shopping("pricerunner", "pricerunner.*"),
        Shopping("temu", "temu.com"),
        Shopping("shein", "shein.com"),
        Shopping("target", "target.com"),
        Shopping("bestbuy", "bestbuy.com"),
        Shopping("wish", "wish.com"),
        Shopping("bol", "bol.com"),
        Shopping("flipkart", "flipkart.com"),
        Shopping("taobao", "taobao.com"),
        Shopping("tmall", "tmall.com"),
        Shopping("jd", "jd.com"),
        Shopping("coupang", "coupang.com"),
        Shopping(null, "shop.app"),
    ];

    /// <summary>
    /// Common source spellings used in utm_source that are not a row's name (GA4's lists include
    /// several of them), mapped to the row name they stand for.
    /// </summary>
    public static IReadOnlyDictionary<string, string> SourceAliases { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["fb"] = "facebook",
        ["meta"] = "facebook",
        ["ig"] = "instagram",
        ["twitter"] = "x",
        ["tw"] = "x",
        ["yt"] = "youtube",
        ["lnkd"] = "linkedin",
        ["googleshopping"] = "google shopping",
        ["google_shopping"] = "google shopping",
        ["vkontakte"] = "vk",
    };
}
