using System.Text;

namespace TouchpointTracker.Journeys.Signals;

/// <summary>What a search keyword says about the searcher (content-funnel tagging: TOFU, MOFU, BOFU, brand).</summary>
[Flags]
public enum KeywordIntent
{
    None = 0,
    /// <summary>Learning: "what is", "how to", "comment", "pourquoi".</summary>
    Informational = 1,
    /// <summary>Investigating: "best", "vs", "alternatives", "comparatif", "avis".</summary>
    Commercial = 2,
    /// <summary>Ready to act: "pricing", "demo", "buy", "prix", "devis", "essai".</summary>
    Transactional = 4,
    /// <summary>Names the brand (configured brand terms).</summary>
    Branded = 8,
}

public static class KeywordIntentNames
{
    public const string Informational = "informational";
    public const string Commercial = "commercial";
    public const string Transactional = "transactional";
    public const string Branded = "branded";

    public static readonly string[] All = [Informational, Commercial, Transactional, Branded];

    public static KeywordIntent Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        Informational => KeywordIntent.Informational,
        Commercial => KeywordIntent.Commercial,
        Transactional => KeywordIntent.Transactional,
        Branded => KeywordIntent.Branded,
        _ => KeywordIntent.None,
    };
}

/// <summary>
/// Classifies a keyword by the words and phrases it contains. Matching is on whole words after
/// folding case, accents and punctuation, so "Qu'est-ce que le CRM ?" contains the phrase "qu est ce"
/// and "démo" equals "demo". A keyword can have several intents ("acme pricing": branded and transactional).
/// </summary>
public sealed class KeywordIntentClassifier
{
    private readonly (KeywordIntent Intent, string[] Phrases)[] _lists;

    public KeywordIntentClassifier(IEnumerable<(KeywordIntent Intent, IEnumerable<string> Phrases)> lists)
    {
        _lists = [.. lists.Select(l => (l.Intent, l.Phrases.Select(TextFolding.Fold).Where(p => p.Length > 0).Select(p => " " + p + " ").Distinct(StringComparer.Ordinal).ToArray()))];
    }

    public static readonly KeywordIntentClassifier Empty = new([]);

    public KeywordIntent Classify(string? keyword)
    {
        if (string.IsNullOrWhiteSpace(keyword))
        {
            return KeywordIntent.None;
        }
        var text = " " + TextFolding.Fold(keyword) + " ";
        var intents = KeywordIntent.None;
        foreach (var (intent, phrases) in _lists)
        {
            if ((intents & intent) != 0)
            {
                continue;
            }
            foreach (var phrase in phrases)
            {
                if (text.Contains(phrase, StringComparison.Ordinal))
                {
                    intents |= intent;
                    break;
                }
            }
        }
        return intents;
    }
}

/// <summary>Folds text for word matching: lower case, Latin accents removed, every run of non-letters one space.</summary>
public static class TextFolding
{
    public static string Fold(string text)
    {
        var sb = new StringBuilder(text.Length);
        var space = true; // no leading space
        foreach (var raw in text)
        {
            var folded = FoldChar(char.ToLowerInvariant(raw));
            if (folded is null)
            {
                if (!space)
                {
                    sb.Append(' ');
                    space = true;
                }
                continue;
            }
            sb.Append(folded);
            space = false;
        }
        if (sb.Length > 0 && sb[^1] == ' ')
        {
            sb.Length--;
        }
        return sb.ToString();
    }

    private static string? FoldChar(char c) => c switch
    {
        >= 'a' and <= 'z' or >= '0' and <= '9' => c.ToString(),
        'à' or 'á' or 'â' or 'ã' or 'ä' or 'å' => "a",
        'ç' => "c",
        'è' or 'é' or 'ê' or 'ë' => "e",
        'ì' or 'í' or 'î' or 'ï' => "i",
        'ñ' => "n",
        'ò' or 'ó' or 'ô' or 'õ' or 'ö' => "o",
        'ù' or 'ú' or 'û' or 'ü' => "u",
        'ý' or 'ÿ' => "y",
        'œ' => "oe",
        'æ' => "ae",
        'ß' => "ss",
        _ when char.IsLetter(c) => c.ToString(),
        _ => null,
    };
}
