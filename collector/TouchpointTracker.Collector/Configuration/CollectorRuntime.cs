namespace TouchpointTracker.Collector.Configuration;

/// <summary>The mode this process runs in, decided once at start-up.</summary>
public sealed record CollectorRuntime(CollectorMode Mode)
{
    public bool IsEmbedded => Mode == CollectorMode.Embedded;
}
