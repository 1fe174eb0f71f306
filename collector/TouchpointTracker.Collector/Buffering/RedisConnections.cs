using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Collector.Buffering;

/// <summary>
/// The process's Redis connections: one for ingest (small XADD batches on the request path) and one for
/// the forwarder and monitor (large XREADGROUP replies), so a big read never delays a collect request.
/// Both fail fast while Redis is unreachable (no queueing: the collector answers 503 at once) and
/// reconnect by themselves when it returns. <see cref="ConnectAsync"/> opens them at start-up.
/// </summary>
public sealed class RedisConnections : IHostedService, IDisposable
{
    private readonly RedisOptions _options;
    private readonly ILogger<RedisConnections> _logger;
    private readonly object _gate = new();
    private ConnectionMultiplexer? _ingest;
    private ConnectionMultiplexer? _forward;

    public RedisConnections(IOptions<RedisOptions> options, ILogger<RedisConnections> logger)
    {
        _options = options.Value;
        _logger = logger;
    }

    public IConnectionMultiplexer Ingest => _ingest ?? Connect(ref _ingest, "tt-collector-ingest");
    public IConnectionMultiplexer Forward => _forward ?? Connect(ref _forward, "tt-collector-forward");

    /// <summary>Opens both connections before the server takes requests, waiting at most the connect timeout.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var ingest = RedisConnection.ConnectAsync(_options, "tt-collector-ingest");
        var forward = RedisConnection.ConnectAsync(_options, "tt-collector-forward");
        var connected = await Task.WhenAll(ingest, forward);
        lock (_gate)
        {
            if (_ingest is null)
            {
                _ingest = connected[0];
            }
            else
            {
                connected[0].Dispose();
            }
            if (_forward is null)
            {
                _forward = connected[1];
            }
            else
            {
                connected[1].Dispose();
            }
        }
        if (!_ingest.IsConnected)
        {
            _logger.LogWarning("Redis is not reachable at start-up; the collector answers 503 until it is");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private ConnectionMultiplexer Connect(ref ConnectionMultiplexer? field, string clientName)
    {
        lock (_gate)
        {
            return field ??= RedisConnection.Connect(_options, clientName);
        }
    }

    public void Dispose()
    {
        _ingest?.Dispose();
        _forward?.Dispose();
    }
}
