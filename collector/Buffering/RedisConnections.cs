using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TouchpointTracker.Collector.Configuration;

namespace TouchpointTracker.Collector.Buffering;

/// <summary>
/// The process's Redis connections: one for ingest (small XADD batches on the request path) and one for
/// the forwarder and monitor (large XREADGROUP replies), so a big read never delays a collect request.
/// Both fail fast while Redis is unreachable (no queueing: the collector answers 503 at once) and
/// reconnect by themselves when it returns.
/// </summary>
public sealed class RedisConnections : IDisposable
{
    private readonly Lazy<ConnectionMultiplexer> _ingest;
    private readonly Lazy<ConnectionMultiplexer> _forward;

    public RedisConnections(IOptions<RedisOptions> options)
    {
        var configuration = options.Value.Configuration;
        _ingest = new Lazy<ConnectionMultiplexer>(() => Connect(configuration, "tt-collector-ingest"));
        _forward = new Lazy<ConnectionMultiplexer>(() => Connect(configuration, "tt-collector-forward"));
    }

    public IConnectionMultiplexer Ingest => _ingest.Value;
    public IConnectionMultiplexer Forward => _forward.Value;

    public static ConfigurationOptions BuildOptions(string configuration, string clientName)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false; // start (and report not ready) while Redis is down
        options.BacklogPolicy = BacklogPolicy.FailFast; // a command while disconnected fails now: 503, not a hidden queue
        options.ClientName ??= clientName;
        return options;
    }

    private static ConnectionMultiplexer Connect(string configuration, string clientName) =>
        ConnectionMultiplexer.Connect(BuildOptions(configuration, clientName));

    public void Dispose()
    {
        if (_ingest.IsValueCreated)
        {
            _ingest.Value.Dispose();
        }
        if (_forward.IsValueCreated)
        {
            _forward.Value.Dispose();
        }
    }
}
