using TouchpointTracker.Messaging;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using TouchpointTracker.Processor.Configuration;
using TouchpointTracker.Processor.Kafka;

namespace TouchpointTracker.Processor.Staging;

/// <summary>
/// Publishes the outputs of a batch, each on its input's partition number with the input offset in a
/// header (<see cref="KafkaClients.SourceOffsetHeader"/>), and in transactional mode commits them together
/// with the input offsets in one Kafka transaction. Counts failed deliveries, so a batch is never committed
/// with an output missing. Starting the producer fences this instance's previous run.
/// </summary>
internal sealed class OutputPublisher : IDisposable
{
    private static readonly TimeSpan TxnTimeout = TimeSpan.FromSeconds(30);

    private readonly KafkaOptions _kafka;
    private readonly string _instanceId;
    private readonly ILogger _logger;
    private IProducer<byte[], byte[]>? _producer;
    private bool _inTransaction;
    private int _deliveryErrors;
    private string? _firstDeliveryError;

    public OutputPublisher(KafkaOptions kafka, string instanceId, ILogger logger)
    {
        _kafka = kafka;
        _instanceId = instanceId;
        _logger = logger;
        try
        {
            CreateProducer();
        }
        catch
        {
            _producer?.Dispose();
            throw;
        }
    }

    public string TopicOf(OutputKind kind) => kind switch
    {
        OutputKind.Staged => _kafka.StagedTopic,
        OutputKind.Transition => _kafka.TransitionsTopic,
        OutputKind.Conversion => _kafka.ConversionsTopic,
        _ => _kafka.TouchpointsTopic,
    };

    /// <summary>Starts a batch: clears the delivery count and, in transactional mode, begins the transaction.</summary>
    public void Begin()
    {
        _deliveryErrors = 0;
        _firstDeliveryError = null;
        if (_kafka.Transactional)
        {
            _producer!.BeginTransaction();
            _inTransaction = true;
        }
    }

    public void Publish(OutputMessage output, CancellationToken ct)
    {
        var message = new Message<byte[], byte[]>
        {
            Key = output.Key,
            Value = output.Value,
            Headers = [new Header(KafkaClients.SourceOffsetHeader, Encoding.ASCII.GetBytes(output.SourceOffset.ToString(CultureInfo.InvariantCulture)))],
        };
        // A re-keyed touch goes back to the input topic on its visitor's partition (the key, as the collector's forwarder sends it).
        var target = new TopicPartition(TopicOf(output.Kind), output.Kind == OutputKind.Rekeyed ? Partition.Any : output.Partition);
        while (true)
        {
            try
            {
                _producer!.Produce(target, message, OnDelivered);
                return;
            }
            catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                _producer!.Poll(TimeSpan.FromMilliseconds(50));
                ct.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>Waits until every output of the batch is acknowledged; throws when any was not delivered.</summary>
    public void AwaitDelivery(CancellationToken ct)
    {
        while (_producer!.Flush(TimeSpan.FromMilliseconds(500)) > 0)
        {
            ct.ThrowIfCancellationRequested();
        }
        if (_deliveryErrors > 0)
        {
            throw new KafkaException(new Error(ErrorCode.Local_Fail, $"{_deliveryErrors} outputs were not delivered; first: {_firstDeliveryError}"));
        }
    }

    /// <summary>
    /// Transactional mode: adds the input offsets to the transaction and commits it. Otherwise nothing: the
    /// caller commits the offsets on the consumer once the state is saved.
    /// </summary>
    public void CommitTransaction(IReadOnlyList<TopicPartitionOffset> offsets, IConsumer<byte[]?, byte[]?> consumer)
    {
        if (_kafka.Transactional)
        {
            _producer!.SendOffsetsToTransaction(offsets, consumer.ConsumerGroupMetadata, TxnTimeout);
            _producer.CommitTransaction(TxnTimeout);
            _inTransaction = false;
        }
    }

    /// <summary>Aborts the open transaction, if any; when that fails, starts a new producer (which aborts it).</summary>
    public void AbortQuietly()
    {
        if (!_inTransaction || _producer is null)
        {
            return;
        }
        try
        {
            _producer.AbortTransaction(TxnTimeout);
        }
        catch (KafkaException ex)
        {
            _logger.LogWarning(ex, "Could not abort the transaction; starting a new producer");
            try
            {
                CreateProducer();
            }
            catch (KafkaException inner)
            {
                _logger.LogWarning(inner, "Could not start a new producer yet");
            }
        }
        _inTransaction = false;
    }

    public void Dispose()
    {
        if (!_kafka.Transactional)
        {
            _producer?.Flush(TimeSpan.FromSeconds(10));
        }
        _producer?.Dispose();
    }

    private void CreateProducer()
    {
        _producer?.Dispose();
        _producer = new ProducerBuilder<byte[], byte[]>(KafkaClients.OutputProducer(_kafka, _instanceId))
            .SetErrorHandler((_, e) => _logger.Log(e.IsFatal ? LogLevel.Error : LogLevel.Debug, "Kafka producer: {Reason}", e.Reason))
            .Build();
        if (_kafka.Transactional)
        {
            // Fences this instance's previous run and aborts the transaction it may have left open.
            _producer.InitTransactions(TxnTimeout);
        }
    }

    private void OnDelivered(DeliveryReport<byte[], byte[]> report)
    {
        if (report.Error.IsError && Interlocked.Increment(ref _deliveryErrors) == 1)
        {
            _firstDeliveryError = report.Error.Reason;
        }
    }
}
