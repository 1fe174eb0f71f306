using System.Text.Json.Serialization;

namespace TouchpointTracker.Journeys;

/// <summary>
/// What the processor remembers about one visitor of one site. Small and serialisable, so it can
/// live in memory (embedded mode) or in an external store keyed by <c>site:visitor</c>.
/// </summary>
public sealed class JourneyState
{
    /// <summary>How many recent event ids are remembered to drop duplicates delivered twice upstream.</summary>
    public const int DedupCapacity = 256;

    [JsonPropertyName("journey_id")] public string JourneyId { get; set; } = "";
    [JsonPropertyName("stage")] public string Stage { get; set; } = "";
    [JsonPropertyName("score")] public double Score { get; set; }
    [JsonPropertyName("touches")] public int Touches { get; set; }
    [JsonPropertyName("sessions")] public int Sessions { get; set; }
    [JsonPropertyName("session_id")] public string? SessionId { get; set; }
    [JsonPropertyName("session_pages")] public int SessionPages { get; set; }
    [JsonPropertyName("pages")] public int Pages { get; set; }
    [JsonPropertyName("started")] public DateTimeOffset Started { get; set; }
    [JsonPropertyName("last_seen")] public DateTimeOffset LastSeen { get; set; }
    /// <summary>Ids of the latest events, oldest first, bounded by <see cref="DedupCapacity"/>.</summary>
    [JsonPropertyName("recent_ids")] public List<string> RecentEventIds { get; set; } = [];

    public bool HasSeen(string eventId) => RecentEventIds.Contains(eventId, StringComparer.Ordinal);

    public void Remember(string eventId)
    {
        if (RecentEventIds.Count >= DedupCapacity)
        {
            RecentEventIds.RemoveAt(0);
        }
        RecentEventIds.Add(eventId);
    }
}
