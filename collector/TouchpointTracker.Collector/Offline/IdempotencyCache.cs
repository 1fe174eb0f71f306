using System.Collections.Concurrent;

namespace TouchpointTracker.Collector.Offline;

/// <summary>
/// The first answer to each <c>Idempotency-Key</c>, per site, bounded in keys, bytes and age. In memory and per
/// collector process: in the distributed mode a retry that reaches another collector is processed again (its
/// events then answer as new, and the processor's event-id deduplication keeps them from counting twice).
/// </summary>
public sealed class IdempotencyCache(OfflineOptions options, TimeProvider clock)
{
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
