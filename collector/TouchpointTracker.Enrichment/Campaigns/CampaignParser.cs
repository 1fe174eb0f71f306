using TouchpointTracker.Enrichment.Urls;

namespace TouchpointTracker.Enrichment.Campaigns;

/// <summary>
/// Reads utm_* tags and click ids from a URL's query. Names match case-insensitively (and after
/// decoding escapes); for each field the first non-empty value wins. Never throws.
/// </summary>
public sealed class CampaignParser
{
    private readonly ClickIdRegistry _clickIds;

    /// <summary>Creates a parser recognising the click ids in <paramref name="clickIds"/>.</summary>
    public CampaignParser(ClickIdRegistry clickIds) => _clickIds = clickIds;

    /// <summary>A parser with the built-in click ids only.</summary>
    public static CampaignParser Default { get; } = new(ClickIdRegistry.Default);

    /// <summary>Parses the query of <paramref name="url"/>.</summary>
    public CampaignParameters Parse(in ParsedUrl url) => ParseQuery(url.QuerySpan);

    /// <summary>Parses a raw query string (without '?').</summary>
    public CampaignParameters ParseQuery(ReadOnlySpan<char> query)
    {
        if (query.IsEmpty)
        {
            return CampaignParameters.Empty;
        }

        string? source = null, medium = null, campaign = null, term = null, content = null, id = null, clickId = null;
        ClickIdDefinition? clickDefinition = null;
        Span<char> nameBuffer = stackalloc char[64];

        foreach (var parameter in new QueryParameters(query))
        {
            var name = QueryParameters.NormalizeName(parameter.RawName, nameBuffer);
            if (name.Length > 4 && name.StartsWith("utm_", StringComparison.OrdinalIgnoreCase))
            {
                var field = name[4..];
                if (field.Equals("source", StringComparison.OrdinalIgnoreCase))
                {
                    source ??= parameter.DecodeValue();
                }
                else if (field.Equals("medium", StringComparison.OrdinalIgnoreCase))
                {
                    medium ??= parameter.DecodeValue();
                }
                else if (field.Equals("campaign", StringComparison.OrdinalIgnoreCase))
                {
                    campaign ??= parameter.DecodeValue();
                }
                else if (field.Equals("term", StringComparison.OrdinalIgnoreCase))
                {
                    term ??= parameter.DecodeValue();
                }
                else if (field.Equals("content", StringComparison.OrdinalIgnoreCase))
                {
                    content ??= parameter.DecodeValue();
                }
                else if (field.Equals("id", StringComparison.OrdinalIgnoreCase))
                {
                    id ??= parameter.DecodeValue();
                }
            }
            else if (clickId is null && !name.IsEmpty && _clickIds.TryGet(name, out var definition))
            {
                clickId = parameter.DecodeValue();
                if (clickId is not null)
                {
                    clickDefinition = definition;
                }
            }
        }

        if (source is null && medium is null && campaign is null && term is null && content is null && id is null && clickId is null)
        {
            return CampaignParameters.Empty;
        }

        return new CampaignParameters
        {
            Source = source,
            Medium = medium,
            Campaign = campaign,
            Term = term,
            Content = content,
            Id = id,
            ClickId = clickId,
            ClickIdDefinition = clickDefinition,
        };
    }
}
