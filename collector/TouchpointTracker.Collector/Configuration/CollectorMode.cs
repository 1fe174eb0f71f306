namespace TouchpointTracker.Collector.Configuration;

/// <summary>How the collector runs: embedded (in-memory buffer, bus and processor) or with Redis and Kafka.</summary>
public enum CollectorMode
{
    Embedded,
    Distributed,
}
