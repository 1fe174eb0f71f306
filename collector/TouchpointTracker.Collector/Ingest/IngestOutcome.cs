namespace TouchpointTracker.Collector.Ingest;

/// <summary>The outcome of one beacon: stored (in whole or in part) or refused with a reason.</summary>
public sealed record IngestOutcome(int Accepted, IReadOnlyList<RejectedEvent> Rejected, Rejection? Refusal, string? VisitorId)
{
    public bool IsStored => Refusal is null;

    /// <summary>The request's origin passed the site's check: only then may the answer carry credentialed CORS headers.</summary>
    public bool OriginAllowed { get; init; }
}
