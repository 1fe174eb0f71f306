namespace TouchpointTracker.Enrichment.Campaigns;

/// <summary>Campaign tags and click id read from one URL (values decoded, trimmed, bounded).</summary>
public sealed record CampaignParameters
{
    /// <summary>No tags at all.</summary>
    public static CampaignParameters Empty { get; } = new();

    /// <summary>utm_source.</summary>
    public string? Source { get; init; }

    /// <summary>utm_medium.</summary>
    public string? Medium { get; init; }

    /// <summary>utm_campaign.</summary>
    public string? Campaign { get; init; }

    /// <summary>utm_term.</summary>
    public string? Term { get; init; }

    /// <summary>utm_content.</summary>
    public string? Content { get; init; }

    /// <summary>utm_id.</summary>
    public string? Id { get; init; }

    /// <summary>Value of the first recognised click-id parameter.</summary>
    public string? ClickId { get; init; }

    /// <summary>The definition of that click id, when one was found.</summary>
    public ClickIdDefinition? ClickIdDefinition { get; init; }

    /// <summary>True when utm_source or utm_medium is present (manual tagging).</summary>
    public bool IsTagged => Source is not null || Medium is not null;

    /// <summary>True when nothing was found.</summary>
    public bool IsEmpty => !IsTagged && Campaign is null && Term is null && Content is null && Id is null && ClickId is null;
}
