using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Options;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>
/// Owns the process's idempotent Kafka producer (acks=all, compressed, short linger), rebuilds it after
/// a fatal error, creates the touchpoints topic where the broker allows, and probes Kafka for readiness.
/// </summary>
public sealed class KafkaProducerHost : IDisposable
{
    /// <summary>The client id of the forwarder's Kafka clients unless <c>Kafka:ClientId</c> names another.</summary>
    public const string ServiceName = "tt-collector";

    private readonly KafkaOptions _options;
    private readonly KafkaDeliveryState _state;
    private readonly ILogger<KafkaProducerHost> _logger;
    private readonly LogThrottle _errorThrottle;
    private readonly object _gate = new();
    private IProducer<byte[], byte[]>? _producer;
    private IAdminClient? _probe;
    private volatile bool _fatal;

    public KafkaProducerHost(IOptions<KafkaOptions> options, KafkaDeliveryState state, TimeProvider clock, ILogger<KafkaProducerHost> logger)
    {
        _options = options.Value;
        _state = state;
        _logger = logger;
        _errorThrottle = new LogThrottle(TimeSpan.FromSeconds(10), clock);
    }

    public string Topic => _options.TouchpointsTopic;

    public IProducer<byte[], byte[]> Producer
    {
        get
        {
            lock (_gate)
            {
                return _producer ??= Build();
            }
        }
    }

    public static ProducerConfig BuildConfig(KafkaOptions options)
    {
        var config = new ProducerConfig
        {
            EnableIdempotence = true, // no duplicates from the producer's own retries; order kept per partition
            Acks = Acks.All,
            MaxInFlight = 5,
            CompressionType = KafkaClientConfig.CompressionOf(options),
            LingerMs = options.LingerMs,
            MessageTimeoutMs = options.MessageTimeoutMs,
            MessageMaxBytes = options.MaxMessageBytes + 4096, // our own limit is checked first; this leaves room for headers
            DeliveryReportFields = "status",
            SocketKeepaliveEnable = true,
        };
        return KafkaClientConfig.Configure(config, options, ServiceName);
    }

    private IProducer<byte[], byte[]> Build()
    {
        _fatal = false;
        return new ProducerBuilder<byte[], byte[]>(BuildConfig(_options))
            .SetErrorHandler((_, error) => OnError(error))
            .SetLogHandler((_, message) => OnLog(message))
            .Build();
    }

    /// <summary>After a fatal error the producer cannot be used again: it is replaced (undelivered entries are still pending in Redis).</summary>
    public void RebuildIfFatal()
    {
        IProducer<byte[], byte[]>? old = null;
        lock (_gate)
        {
            if (_fatal && _producer is not null)
            {
                old = _producer;
                _producer = null;
                _probe?.Dispose();
                _probe = null;
            }
        }
        if (old is not null)
        {
            _logger.LogError("Replacing the Kafka producer after a fatal error");
            old.Dispose();
        }
    }

    private void OnError(Error error)
    {
        if (error.IsFatal)
        {
            _fatal = true;
        }
        // Broker-level events (all brokers down, authentication) matter for readiness; one broker's
        // transient disconnect does not, as long as messages are delivered.
        var cls = KafkaErrorClassifier.Classify(error);
        if (error.IsFatal || cls == DeliveryErrorClass.Fatal || error.Code == ErrorCode.Local_AllBrokersDown)
        {
            _state.Failed($"{error.Code}: {error.Reason}", cls == DeliveryErrorClass.Fatal);
        }
        if (_errorThrottle.ShouldLog(out var suppressed))
        {
            _logger.Log(error.IsFatal ? LogLevel.Error : LogLevel.Warning,
                "Kafka producer error {Code}: {Reason} ({Suppressed} more since the last report)", error.Code, error.Reason, suppressed);
        }
    }

    private void OnLog(LogMessage message)
    {
        var level = message.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical or SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        if (level >= LogLevel.Warning && !_errorThrottle.ShouldLog(out _))
        {
            return;
        }
        _logger.Log(level, "librdkafka {Facility}: {Message}", message.Facility, message.Message);
    }

    /// <summary>
    /// Creates the touchpoints topic when absent. Returns true when it exists (created or already there)
    /// or the broker forbids creating it (nothing more to try); false to try again later.
    /// </summary>
    public async Task<bool> EnsureTopicAsync(CancellationToken ct)
    {
        if (!_options.CreateTopics)
        {
            return true;
        }
        var config = KafkaClientConfig.Configure(new AdminClientConfig(), _options, ServiceName, "admin");
        using var admin = new AdminClientBuilder(config).SetLogHandler((_, m) => { }).Build();
        try
        {
            await admin.CreateTopicsAsync(
                [new TopicSpecification { Name = _options.TouchpointsTopic, NumPartitions = _options.TouchpointsPartitions, ReplicationFactor = _options.ReplicationFactor }],
                new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(10), OperationTimeout = TimeSpan.FromSeconds(10) }).WaitAsync(ct);
            _logger.LogInformation("Created Kafka topic {Topic} with {Partitions} partitions", _options.TouchpointsTopic, _options.TouchpointsPartitions);
            return true;
        }
        catch (CreateTopicsException ex)
        {
            var error = ex.Results.Select(r => r.Error).FirstOrDefault(e => e.IsError) ?? ex.Error;
            if (error.Code == ErrorCode.TopicAlreadyExists)
            {
                return true;
            }
            if (KafkaErrorClassifier.Classify(error) == DeliveryErrorClass.Retriable && error.Code is not ErrorCode.PolicyViolation and not ErrorCode.InvalidReplicationFactor and not ErrorCode.InvalidPartitions)
            {
                _logger.LogWarning("Could not create Kafka topic {Topic} yet: {Reason}; will try again", _options.TouchpointsTopic, error.Reason);
                return false;
            }
            _logger.LogWarning("Kafka topic {Topic} was not created ({Code}: {Reason}); it must exist or be auto-created by the broker",
                _options.TouchpointsTopic, error.Code, error.Reason);
            return true;
        }
        catch (KafkaException ex)
        {
            _logger.LogWarning("Could not create Kafka topic {Topic} yet: {Reason}; will try again", _options.TouchpointsTopic, ex.Error.Reason);
            return false;
        }
    }

    /// <summary>Asks Kafka for the topic's metadata through the producer's connections; true when it answers.</summary>
    public bool Probe(TimeSpan timeout)
    {
        IAdminClient probe;
        lock (_gate)
        {
            _producer ??= Build();
            probe = _probe ??= new DependentAdminClientBuilder(_producer.Handle).Build();
        }
        try
        {
            var metadata = probe.GetMetadata(_options.TouchpointsTopic, timeout);
            return metadata.Brokers.Count > 0 && metadata.Topics.Any(t => t.Topic == _options.TouchpointsTopic && !t.Error.IsError);
        }
        catch (KafkaException)
        {
            return false;
        }
    }

    /// <summary>Waits for queued messages to be delivered, up to <paramref name="timeout"/>; returns how many are left.</summary>
    public int Flush(TimeSpan timeout)
    {
        IProducer<byte[], byte[]>? producer;
        lock (_gate)
        {
            producer = _producer;
        }
        return producer?.Flush(timeout) ?? 0;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _probe?.Dispose();
            _probe = null;
            _producer?.Dispose();
            _producer = null;
        }
    }
}
