using System.Collections.Concurrent;

namespace TouchpointTracker.Collector.Offline;

/// <summary>
/// Where the first answer to each <c>Idempotency-Key</c> is kept: in this process (embedded mode) or in Redis, shared
/// by every collector (distributed mode, <see cref="RedisIdempotencyStore"/>).
/// </summary>
public interface IIdempotencyStore
{
    /// <summary>Where answers are kept, for the start-up banner and docs.</summary>
    string Where { get; }

    /// <summary>The first answer given to <paramref name="key"/> of <paramref name="site"/>, or null.</summary>
    ValueTask<byte[]?> GetAsync(string site, string key, CancellationToken cancellationToken);

    /// <summary>Keeps <paramref name="answer"/> unless an answer to the key is already kept (the first one wins).</summary>
    ValueTask StoreAsync(string site, string key, byte[] answer, CancellationToken cancellationToken);
}

/// <summary>
/// The first answer to each <c>Idempotency-Key</c>, per site, bounded in keys, bytes and age, in this process: the
/// embedded mode's store (one collector).
/// </summary>
public sealed class IdempotencyCache(OfflineOptions options, TimeProvider clock) : IIdempotencyStore
{
    public string Where => "in memory";

    public ValueTask<byte[]?> GetAsync(string site, string key, CancellationToken cancellationToken) =>
        ValueTask.FromResult(TryGet(site, key, out var answer) ? answer : null);

    public ValueTask StoreAsync(string site, string key, byte[] answer, CancellationToken cancellationToken)
    {
        Store(site, key, answer);
        return ValueTask.CompletedTask;
    }

    private readonly ConcurrentDictionary<string, SiteAnswers> _sites = new(StringComparer.Ordinal);
    private readonly TimeSpan _ttl = TimeSpan.FromHours(options.IdempotencyHours);

    public bool TryGet(string site, string key, out byte[] answer)
    {
        answer = [];
        return _sites.TryGetValue(site, out var answers) && answers.TryGet(key, clock.GetUtcNow(), out answer);
    }

    public void Store(string site, string key, byte[] answer)
    {
        if (options.IdempotencyKeysPerSite == 0 || answer.Length > options.IdempotencyBytesPerSite)
        {
            return;
        }
        _sites.GetOrAdd(site, _ => new SiteAnswers(options.IdempotencyKeysPerSite, options.IdempotencyBytesPerSite))
            .Store(key, answer, clock.GetUtcNow(), _ttl);
    }

    /// <summary>One site's answers; every entry lives as long, so the insertion order is the expiry order.</summary>
    private sealed class SiteAnswers(int maxKeys, long maxBytes)
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, (DateTimeOffset Expires, byte[] Answer)> _answers = new(StringComparer.Ordinal);
        private readonly Queue<(string Key, DateTimeOffset Expires)> _order = new();
        private long _bytes;

        public bool TryGet(string key, DateTimeOffset now, out byte[] answer)
        {
            lock (_lock)
            {
                if (_answers.TryGetValue(key, out var entry) && entry.Expires > now)
                {
                    answer = entry.Answer;
                    return true;
                }
            }
            answer = [];
            return false;
        }

        public void Store(string key, byte[] answer, DateTimeOffset now, TimeSpan ttl)
        {
            var expires = now + ttl;
            lock (_lock)
            {
                while (_order.Count > 0 && (_order.Peek().Expires <= now || _answers.Count >= maxKeys || _bytes + answer.Length > maxBytes))
                {
                    Evict(_order.Dequeue());
                }
                if (_answers.TryAdd(key, (expires, answer)))
                {
                    _order.Enqueue((key, expires));
                    _bytes += answer.Length;
                }
            }
        }

        private void Evict((string Key, DateTimeOffset Expires) oldest)
        {
            if (_answers.TryGetValue(oldest.Key, out var entry) && entry.Expires == oldest.Expires)
            {
                _answers.Remove(oldest.Key);
                _bytes -= entry.Answer.Length;
            }
        }
    }
}
