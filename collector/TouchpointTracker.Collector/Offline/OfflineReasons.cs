namespace TouchpointTracker.Collector.Offline;

/// <summary>
/// Stable reason codes of the offline events API (the <c>reason</c> of an answer and of the rejection counters,
/// listed in docs/offline.md). Codes shared with <c>/collect</c> keep its spelling.
/// </summary>
public static class OfflineReasons
{
    // Requests refused whole.
    public const string MissingServerKey = "missing_server_key";
    public const string UnknownServerKey = "unknown_server_key";
    public const string SiteNotAllowed = "site_not_allowed";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string InvalidIdempotencyKey = "invalid_idempotency_key";
    public const string BodyTooLarge = "body_too_large";
    public const string TooManyEvents = "too_many_events";
    public const string EmptyBody = "empty_body";
    public const string InvalidJson = "invalid_json";
    public const string InvalidCsv = "invalid_csv";
    public const string MissingSite = "missing_site";
    public const string NoEvents = "no_events";
    public const string UnreadableBody = "unreadable_body";
    public const string BufferFull = "buffer_full";
    public const string BufferUnavailable = "buffer_unavailable";

    // Events refused one by one.
    public const string InvalidEvent = "invalid_event";
    public const string InvalidEventId = "invalid_event_id";
    public const string DuplicateEventId = "duplicate_event_id";
    public const string InvalidEventType = "invalid_event_type";
    public const string InvalidTimestamp = "invalid_timestamp";
    public const string TooOld = "too_old";
    public const string InFuture = "in_future";
    public const string InvalidVisitor = "invalid_visitor_id";
    /// <summary>No visitor id and no identifier to match the event by.</summary>
    public const string MissingIdentity = "missing_identity";
    public const string InvalidIdentity = "invalid_identity";
    public const string InvalidField = "invalid_field";
    public const string InvalidCurrency = "invalid_currency";

    public static int StatusFor(string reason) => reason switch
    {
        MissingServerKey or UnknownServerKey => StatusCodes.Status401Unauthorized,
        SiteNotAllowed => StatusCodes.Status403Forbidden,
        UnsupportedMediaType => StatusCodes.Status415UnsupportedMediaType,
        BodyTooLarge or TooManyEvents => StatusCodes.Status413PayloadTooLarge,
        BufferFull or BufferUnavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status400BadRequest,
    };
}
