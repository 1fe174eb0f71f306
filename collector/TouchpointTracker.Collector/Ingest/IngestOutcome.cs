namespace TouchpointTracker.Collector.Ingest;

/// <summary>The outcome of one beacon: stored (in whole or in part) or refused with a reason.</summary>
public sealed record IngestOutcome(int Accepted, IReadOnlyList<RejectedEvent> Rejected, Rejection? Refusal, string? VisitorId)
{
    public bool IsStored => Refusal is null;
}
