namespace TouchpointTracker.Collector.Ingest;

/// <summary>Why input was refused. <see cref="Reason"/> is a stable code (metrics label, problem type); <see cref="Detail"/> is for people.</summary>
public sealed record Rejection(string Reason, string Detail, int? EventIndex = null, string? EventId = null);

/// <summary>Stable rejection codes, used as the <c>reason</c> label of the rejection counter.</summary>
public static class RejectReasons
{
    public const string BodyTooLarge = "body_too_large";
    public const string EmptyBody = "empty_body";
    public const string InvalidJson = "invalid_json";
    public const string UnsupportedVersion = "unsupported_version";
    public const string MissingSite = "missing_site";
    public const string UnknownSite = "unknown_site";
    public const string OriginNotAllowed = "origin_not_allowed";
    public const string UrlNotAllowed = "url_not_allowed";
    public const string InvalidVisitor = "invalid_visitor_id";
    public const string InvalidSession = "invalid_session_id";
    public const string NoEvents = "no_events";
    public const string TooManyEvents = "too_many_events";
    public const string InvalidEventId = "invalid_event_id";
    public const string DuplicateEventId = "duplicate_event_id";
    public const string InvalidEventType = "invalid_event_type";
    public const string MissingEventName = "missing_event_name";
    public const string InvalidUrl = "invalid_url";
    public const string UrlTooLong = "url_too_long";
    public const string InvalidTimestamp = "invalid_timestamp";
    public const string InvalidProps = "invalid_props";
    public const string BufferFull = "buffer_full";
    public const string BufferUnavailable = "buffer_unavailable";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string UnreadableBody = "unreadable_body";
    public const string RateLimited = "rate_limited";
    public const string Bot = "bot";
    public const string Gpc = "gpc";

    /// <summary>HTTP status for a batch-level rejection.</summary>
    public static int StatusFor(string reason) => reason switch
    {
        BodyTooLarge => StatusCodes.Status413PayloadTooLarge,
        UnknownSite or OriginNotAllowed => StatusCodes.Status403Forbidden,
        UnsupportedMediaType => StatusCodes.Status415UnsupportedMediaType,
        BufferFull or BufferUnavailable => StatusCodes.Status503ServiceUnavailable,
        RateLimited => StatusCodes.Status429TooManyRequests,
        _ => StatusCodes.Status400BadRequest,
    };
}
