using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Collector.Offline;

/// <summary>Limits of the offline events API (section <c>Offline</c>); its path is <c>Collector:OfflineEventsPath</c>.</summary>
public sealed class OfflineOptions
{
    public const string Section = "Offline";

    /// <summary>Oldest <c>occurred_at</c> accepted, in days before the collector's clock.</summary>
    [Range(1, 3650)] public int MaxAgeDays { get; set; } = 90;

    /// <summary>How far <c>occurred_at</c> may be ahead of the collector's clock (the sender's clock skew).</summary>
    [Range(0, 24 * 60)] public int MaxFutureMinutes { get; set; } = 5;

    /// <summary>Events in one JSON request; more is refused whole (413 too_many_events).</summary>
    [Range(1, 10_000)] public int MaxEvents { get; set; } = 500;

    /// <summary>Data rows in one CSV upload (an export from a CRM or call platform); more is refused whole.</summary>
    [Range(1, 100_000)] public int MaxCsvRows { get; set; } = 10_000;

    /// <summary>Largest request body, JSON or CSV (413 body_too_large).</summary>
    [Range(1024, 16 * 1024 * 1024)] public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Idempotency-Key answers kept per site (in memory, per collector process).</summary>
    [Range(0, 1_000_000)] public int IdempotencyKeysPerSite { get; set; } = 10_000;

    /// <summary>Bytes of kept answers per site: the oldest go first past this, whatever their age.</summary>
    [Range(0, 1024 * 1024 * 1024)] public int IdempotencyBytesPerSite { get; set; } = 32 * 1024 * 1024;

    /// <summary>How long an Idempotency-Key answer is replayed.</summary>
    [Range(1, 24 * 30)] public int IdempotencyHours { get; set; } = 24;
}
