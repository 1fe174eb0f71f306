using System.Text.RegularExpressions;

namespace TouchpointTracker.Journeys.Signals;

/// <summary>
/// Named groups of page paths (content, product, comparison, pricing...), each one compiled regular
/// expression. A path may belong to several groups; the result is a bit set over the group indexes.
/// A path is matched as it is and in its normal form (<see cref="Normalise"/>: no file extension, trailing
/// slash, locale prefix or <c>index.php</c> front controller; a CMS page parameter of a root URL as a
/// segment), so <c>/pricing.html</c>, <c>/fr/tarifs/</c> and <c>/index.php?route=checkout/cart</c> are in
/// the groups their clean forms are in. Results are cached per path (and CMS parameter), so the usual
/// touch costs one dictionary lookup and allocates nothing.
/// </summary>
public sealed class PathGroups
{
    /// <summary>A pattern that runs longer than this on some path does not match it.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>Paths already classified: a site has far fewer distinct paths than page views.</summary>
    private const int CacheCapacity = 50_000;
    private readonly Regex[] _regexes;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ulong> _cache = new(StringComparer.Ordinal);

    public PathGroups(IReadOnlyList<string> names, IReadOnlyList<Regex> regexes)
    {
        if (names.Count > 64)
        {
            throw new ArgumentException("at most 64 path groups", nameof(names));
        }
        Names = names;
        _regexes = [.. regexes];
        foreach (var regex in _regexes)
        {
            // The first match of a compiled pattern runs its code for the first time (JIT); do it here, not
            // inside the first touch's timed match, where a busy machine could make it time out.
            SafeIsMatch(regex, "/");
        }
    }

    public static readonly PathGroups Empty = new([], []);

    public IReadOnlyList<string> Names { get; }

    public int IndexOf(string name)
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if (string.Equals(Names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Bit i set when the path is in group i.</summary>
    public ulong Classify(string? path) => Classify(path, null);

    /// <summary>
    /// Bit i set when the page is in group i: its path as it is, or its normal form, matches. The query is
    /// read only on a root URL (<c>/</c>, <c>/index.php</c>...), for a CMS page parameter (<see cref="CmsPageParameters"/>).
    /// </summary>
    public ulong Classify(string? path, string? query)
    {
        if (string.IsNullOrEmpty(path) || _regexes.Length == 0)
        {
            return 0;
        }
        var key = path;
        string? cms = null;
        if (!string.IsNullOrEmpty(query) && IsRoot(path) && CmsPage(query) is { } page)
        {
            cms = page.Value;
            key = string.Concat(path, "?", page.Name, "=", page.Value);
        }
        if (_cache.TryGetValue(key, out var cached))
        {
            return cached;
        }
        // A match is tried twice before a pattern counts as running away (SafeIsMatch): a verdict reached then
        // holds for this path, and is remembered so a runaway pattern costs its time once per path, not per touch.
        var bits = Match(key);
        var normal = Normalise(path, cms);
        if (!string.Equals(normal, key, StringComparison.Ordinal))
        {
            bits |= Match(normal);
        }
        if (_cache.Count >= CacheCapacity)
        {
            _cache.Clear(); // bounded: start over rather than grow without limit
        }
        _cache[key] = bits;
        return bits;
    }

    private ulong Match(string path)
    {
        ulong bits = 0;
        for (var i = 0; i < _regexes.Length; i++)
        {
            if (SafeIsMatch(_regexes[i], path))
            {
                bits |= 1UL << i;
            }
        }
        return bits;
    }

    /// <summary>Extensions of server-rendered pages, dropped from the last segment.</summary>
    public static readonly string[] PageExtensions = [".html", ".htm", ".shtml", ".php", ".aspx", ".asp", ".jsp", ".cfm"];

    /// <summary>
    /// Query parameters that name the page on a CMS root URL: WordPress without pretty permalinks
    /// (<c>?page_id=42</c>, <c>?p=7</c>, <c>?pagename=pricing</c>), OpenCart and similar (<c>?route=checkout/cart</c>),
    /// <c>?page=contact</c>. A value that is a word becomes a path segment; a numeric id stays
    /// <c>/?page_id=42</c>, which a site's own pattern can name (<c>'page_id=42$'</c>).
    /// </summary>
    public static readonly string[] CmsPageParameters = ["page_id", "pagename", "p", "page", "route"];

    /// <summary>ISO 639-1 language codes: a first segment of one (<c>fr</c>, <c>en-gb</c>, <c>pt_BR</c>, <c>zh-hans</c>) is a locale prefix.</summary>
    private static readonly HashSet<string> Languages = new((
        "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu " +
        "fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr " +
        "ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps " +
        "pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve " +
        "vi vo wa wo xh yi yo za zh zu").Split(' '), StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The path in its normal form: without an <c>index.php</c> front controller, a locale prefix, a page
    /// extension (and an <c>index</c>/<c>default</c> page name), or trailing slashes; with a CMS page
    /// parameter's word value appended as segments. <c>/fr/tarifs.html</c> → <c>/tarifs</c>,
    /// <c>/index.php/contact/</c> → <c>/contact</c>, <c>/</c> with <c>?route=checkout/cart</c> → <c>/checkout/cart</c>.
    /// </summary>
    public static string Normalise(string path, string? cmsPage = null)
    {
        ReadOnlySpan<char> p = path;
        // index.php/... (a front controller before the route)
        foreach (var controller in (ReadOnlySpan<string>)["/index.php", "/index.cfm"])
        {
            if (p.StartsWith(controller, StringComparison.OrdinalIgnoreCase) && (p.Length == controller.Length || p[controller.Length] == '/'))
            {
                p = p[controller.Length..];
                break;
            }
        }
        p = p.TrimEnd('/');
        // Locale prefix: /fr/..., /en-gb/..., /pt_BR/..., /zh-hans/...
        if (p.Length > 1 && p[0] == '/')
        {
            var rest = p[1..];
            var end = rest.IndexOf('/');
            var first = end < 0 ? rest : rest[..end];
            if (IsLocale(first))
            {
                p = end < 0 ? [] : rest[end..];
            }
        }
        // Page extension on the last segment; index.html, default.aspx name the folder.
        var slash = p.LastIndexOf('/');
        var last = p[(slash + 1)..];
        foreach (var ext in PageExtensions)
        {
            if (last.EndsWith(ext, StringComparison.OrdinalIgnoreCase) && last.Length > ext.Length)
            {
                var name = last[..^ext.Length];
                p = name.Equals("index", StringComparison.OrdinalIgnoreCase) || name.Equals("default", StringComparison.OrdinalIgnoreCase)
                    ? p[..Math.Max(slash, 0)]
                    : p[..^ext.Length];
                break;
            }
        }
        p = p.TrimEnd('/');
        if (cmsPage is not null && !IsNumber(cmsPage))
        {
            return string.Concat(p, "/", cmsPage.Trim('/'));
        }
        return p.IsEmpty ? "/" : p.Length == path.Length ? path : p.ToString();
    }

    private static bool IsLocale(ReadOnlySpan<char> segment)
    {
        if (segment.Length < 2 || !char.IsAsciiLetter(segment[0]) || !char.IsAsciiLetter(segment[1]))
        {
            return false;
        }
        if (segment.Length > 2)
        {
            if (segment[2] is not ('-' or '_'))
            {
                return false;
            }
            var region = segment[3..];
            var ok = region.Length == 2 && char.IsAsciiLetter(region[0]) && char.IsAsciiLetter(region[1]) ||
                region.Length == 3 && char.IsAsciiDigit(region[0]) && char.IsAsciiDigit(region[1]) && char.IsAsciiDigit(region[2]) ||
                region.Length == 4 && !region.ContainsAnyExcept(AsciiLetters);
            if (!ok)
            {
                return false;
            }
        }
        return Languages.GetAlternateLookup<ReadOnlySpan<char>>().Contains(segment[..2]);
    }

    private static readonly System.Buffers.SearchValues<char> AsciiLetters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

    private static bool IsNumber(string s) => s.Length > 0 && !s.AsSpan().ContainsAnyExceptInRange('0', '9');

    /// <summary>The root of a site, where a CMS without pretty URLs names the page in the query.</summary>
    private static bool IsRoot(string path) =>
        path == "/" || path.StartsWith("/index.", StringComparison.OrdinalIgnoreCase) && path.IndexOf('/', 1) < 0;

    /// <summary>The first CMS page parameter of the query with a value (decoded), or null.</summary>
    public static (string Name, string Value)? CmsPage(string query)
    {
        foreach (var name in CmsPageParameters)
        {
            if (QueryValue(query, name) is { Length: > 0 } value)
            {
                return (name, value);
            }
        }
        return null;
    }

    /// <summary>The decoded value of parameter <paramref name="name"/> in a query string (with or without '?'), or null.</summary>
    public static string? QueryValue(string? query, string name)
    {
        if (string.IsNullOrEmpty(query))
        {
            return null;
        }
        ReadOnlySpan<char> q = query.AsSpan().TrimStart('?');
        while (!q.IsEmpty)
        {
            var amp = q.IndexOf('&');
            var pair = amp < 0 ? q : q[..amp];
            q = amp < 0 ? [] : q[(amp + 1)..];
            var eq = pair.IndexOf('=');
            if (eq == name.Length && pair.StartsWith(name, StringComparison.OrdinalIgnoreCase))
            {
                var raw = pair[(eq + 1)..];
                if (raw.IsEmpty)
                {
                    return "";
                }
                try
                {
                    return Uri.UnescapeDataString(raw.ToString().Replace('+', ' ')).Trim();
                }
                catch (UriFormatException)
                {
                    return raw.ToString();
                }
            }
        }
        return null;
    }

    /// <summary>Names of the groups set in <paramref name="bits"/>.</summary>
    public IEnumerable<string> NamesOf(ulong bits)
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if ((bits & (1UL << i)) != 0)
            {
                yield return Names[i];
            }
        }
    }

    /// <summary>Compiles one group's patterns into a single alternation; adds a message per invalid pattern.</summary>
    public static Regex? Compile(string where, IReadOnlyList<string> patterns, List<string> errors)
    {
        var valid = new List<string>(patterns.Count);
        foreach (var pattern in patterns)
        {
            var regex = TryCreate(pattern, out var error);
            if (regex is null)
            {
                errors.Add($"{where}: '{pattern}' is not a valid regular expression: {error}");
                continue;
            }
            valid.Add(pattern);
        }
        return valid.Count == 0 ? null : TryCreate(string.Join("|", valid.Select(p => "(?:" + p + ")")), out _);
    }

    public static Regex? TryCreate(string pattern, out string? error)
    {
        try
        {
            error = null;
            return new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled, MatchTimeout);
        }
        catch (ArgumentException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    /// <summary>A pattern that runs away on some input does not match it (and cannot stall the pipeline).</summary>
    public static bool SafeIsMatch(Regex regex, string input) => SafeIsMatch(regex, input, out _);

    /// <summary>How long a match may take on its second try before its pattern counts as running away.</summary>
    public static readonly TimeSpan PatientTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The match, with a second try under <see cref="PatientTimeout"/> when the first hits
    /// <see cref="MatchTimeout"/>: on a starved machine the clock runs while the thread waits, so one timeout
    /// says little; a pattern that times out twice runs away on this input and does not match it.
    /// </summary>
    public static bool SafeIsMatch(Regex regex, string input, out bool runaway)
    {
        runaway = false;
        try
        {
            return regex.IsMatch(input);
        }
        catch (RegexMatchTimeoutException)
        {
        }
        try
        {
            return Regex.IsMatch(input, regex.ToString(), regex.Options, PatientTimeout);
        }
        catch (RegexMatchTimeoutException)
        {
            runaway = true;
            return false;
        }
    }
}
