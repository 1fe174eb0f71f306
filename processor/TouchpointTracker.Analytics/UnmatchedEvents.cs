using System.Text.Json;

namespace TouchpointTracker.Analytics;

/// <summary>
/// Offline events that matched nobody yet, as the host that keeps them lists them (the embedded mode's memory, the
/// processor's Redis). Registered by the host; without one, <c>GET /api/v1/unmatched</c> answers 404.
/// </summary>
public interface IUnmatchedEvents
{
    Task<UnmatchedResult> ListAsync(string site, int limit, CancellationToken ct);
}

/// <summary>One unmatched offline event: its type and time, the kinds of identifier it carries, its properties (hashed identifiers only).</summary>
public sealed record UnmatchedEvent(string EventId, string? Type, DateTime OccurredAt, DateTime ReceivedAt, List<string> Identifiers, Dictionary<string, JsonElement>? Props);

public sealed record UnmatchedResult(string Site, long Total, List<UnmatchedEvent> Events);

public static class UnmatchedEvents
{
    /// <summary>The API's view of an unmatched offline touchpoint.</summary>
    public static UnmatchedEvent Describe(Contracts.Touchpoint tp) => new(
        tp.EventId, tp.Name, tp.DerivedTs.UtcDateTime, tp.ReceivedTs.UtcDateTime,
        [.. Journeys.Identity.IdentityStager.KeysOf(tp).Select(k => k[0] switch
        {
            'u' => "user_id",
            'e' => "email",
            't' => "phone",
            'l' => "lead_id",
            _ => "click_id",
        }).Distinct()],
        tp.Props);
}
