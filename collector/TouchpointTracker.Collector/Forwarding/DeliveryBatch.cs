using Confluent.Kafka;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>
/// Collects the delivery reports of one produce attempt. Each entry index has a cached handler
/// delegate, so producing a batch allocates no closures; the attempt completes when every report is in.
/// </summary>
internal sealed class DeliveryBatch
{
    private Action<DeliveryReport<byte[], byte[]>>[] _handlers = [];
    private Error?[] _errors = [];
    private bool[] _reported = [];
    private int _remaining;
    private TaskCompletionSource _done = NewSource();

    public Task Completion => _done.Task;

    public int Capacity => _handlers.Length;

    /// <summary>Records a result without counting it as a report (used when rebuilding an abandoned attempt).</summary>
    public void Set(int index, Error? error)
    {
        _errors[index] = error;
        _reported[index] = true;
    }

    public void Begin(int capacity, int expected)
    {
        if (_handlers.Length < capacity)
        {
            var handlers = new Action<DeliveryReport<byte[], byte[]>>[capacity];
            Array.Copy(_handlers, handlers, _handlers.Length);
            for (var i = _handlers.Length; i < capacity; i++)
            {
                var index = i;
                handlers[i] = report => Complete(index, report.Error is { IsError: true } e ? e : null);
            }
            _handlers = handlers;
            _errors = new Error?[capacity];
            _reported = new bool[capacity];
        }
        Array.Clear(_errors);
        Array.Clear(_reported);
        _done = NewSource();
        _remaining = expected;
        if (expected == 0)
        {
            _done.TrySetResult();
        }
    }

    public Action<DeliveryReport<byte[], byte[]>> HandlerFor(int index) => _handlers[index];

    /// <summary>Records the result of entry <paramref name="index"/>: null when delivered.</summary>
    public void Complete(int index, Error? error)
    {
        _errors[index] = error;
        _reported[index] = true;
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult();
        }
    }

    public Error? ErrorOf(int index) => _errors[index];

    /// <summary>Whether the report of entry <paramref name="index"/> arrived (read after the wait ended).</summary>
    public bool Reported(int index) => Volatile.Read(ref _reported[index]);

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
