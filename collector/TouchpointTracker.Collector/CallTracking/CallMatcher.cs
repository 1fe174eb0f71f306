using System.Globalization;
using System.Text.Json;
using TouchpointTracker.Collector.Offline;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.CallTracking;

/// <summary>What the matcher did with one call of a request.</summary>
public sealed record CallMatch(NumberPool Pool, string Number, Hold? Holder);

/// <summary>
/// Offline calls to tracking numbers: a <c>call</c> event without <c>visitor_id</c> whose <c>tracking_number</c> is a
/// number of one of the site's pools is given the visitor who held that number at <c>occurred_at</c> (the latest
/// holder whose hold covers that time). A call nobody held keeps no visitor: it is kept as an unmatched touch (matched
/// later if it carries the caller's phone and that phone becomes known) and gets the pool's source when it came
/// without one. The tracking number is rewritten in E.164.
/// Runs before the events are validated; counts matched and unmatched calls.
/// </summary>
public sealed class CallMatcher(CallTrackingCatalog catalog, INumberStore store, CallTrackingMetrics metrics)
{
    public const string PoolProp = "tracking_pool";
    public const string MatchedByProp = "matched_by";
    public const string MatchedByTrackingNumber = "tracking_number";

    /// <summary>Rewrites the rows of calls to pool numbers; returns what was done, by row index (empty when the site has no pool).</summary>
    /// <exception cref="NumberStoreUnavailableException">The assignment store cannot be reached.</exception>
    public async Task<Dictionary<int, CallMatch>> MatchAsync(List<OfflineRow> rows, string site, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var matches = new Dictionary<int, CallMatch>();
        if (!catalog.HasPools(site))
        {
            return matches;
        }
        for (var i = 0; i < rows.Count; i++)
        {
            var f = rows[i].Fields;
            if (rows[i].Unreadable is not null || f.GetValueOrDefault("type") != "call" || f.ContainsKey("visitor_id") ||
                catalog.PoolOfTrackingNumber(site, f.GetValueOrDefault("tracking_number"), out var number) is not { } pool)
            {
                continue;
            }
            f["tracking_number"] = number!;
            Hold? holder = null;
            if (f.GetValueOrDefault("occurred_at") is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
            {
                holder = await store.FindHolderAsync(pool, number!, at, now, cancellationToken);
            }
            if (holder is not null)
            {
                f["visitor_id"] = holder.Visitor;
            }
            else
            {
                rows[i].KeepWithoutIdentity = true;
                if (!f.ContainsKey("source"))
                {
                    f["source"] = pool.Source;
                }
            }
            matches[i] = new CallMatch(pool, number!, holder);
        }
        return matches;
    }

    /// <summary>After validation, before the events are stored: marks the accepted calls' touchpoints with their pool and how the visitor was found.</summary>
    public static void Mark(Dictionary<int, CallMatch> matches, IReadOnlyList<OfflineResult> results, IReadOnlyList<Touchpoint> accepted)
    {
        var next = 0;
        foreach (var r in results)
        {
            if (r.Status != OfflineResult.Accepted)
            {
                continue;
            }
            var tp = accepted[next++];
            if (matches.TryGetValue(r.Index, out var m))
            {
                tp.Props ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                tp.Props[PoolProp] = Text(m.Pool.Name);
                if (m.Holder is not null)
                {
                    tp.Props[MatchedByProp] = Text(MatchedByTrackingNumber);
                }
            }
        }
    }

    /// <summary>Once the request is answered: counts the accepted calls, matched to a holder or kept unmatched.</summary>
    public void Count(Dictionary<int, CallMatch> matches, IReadOnlyList<OfflineResult> results)
    {
        foreach (var r in results)
        {
            if (matches.TryGetValue(r.Index, out var m) && r.Status == OfflineResult.Accepted)
            {
                metrics.CountCall(m.Pool, m.Holder is not null);
            }
        }
    }

    private static JsonElement Text(string value)
    {
        using var doc = JsonDocument.Parse("\"" + JsonEncodedText.Encode(value) + "\"");
        return doc.RootElement.Clone();
    }
}
