namespace TouchpointTracker.Collector.CallTracking;

/// <summary>
/// A visitor's hold of a tracking number: from the assignment (<see cref="FromMs"/>) to their last activity
/// (<see cref="LastMs"/>), plus the pool's hold time after it. Times are Unix milliseconds.
/// </summary>
public sealed record Hold(string Number, string Visitor, string Session, long FromMs, long LastMs)
{
    public bool IsActive(long nowMs, long holdMs) => LastMs + holdMs >= nowMs;

    /// <summary>True when a call at <paramref name="atMs"/> falls in this hold: after the assignment, at most the hold time after the last activity.</summary>
    public bool Covers(long atMs, long holdMs) => FromMs <= atMs && atMs <= LastMs + holdMs;
}

/// <summary>How a number was given.</summary>
public enum AssignmentKind
{
    /// <summary>The visitor's active hold, extended.</summary>
    Kept,

    /// <summary>A number nobody actively held.</summary>
    Free,

    /// <summary>Every number was actively held: the least recently active holder's was taken (<c>pool_exhausted</c>).</summary>
    Reused,
}

/// <summary>The decision: the number, how it was given, the new or extended hold, and the hold it ended (to log), if any.</summary>
public readonly record struct Assignment(string Number, AssignmentKind Kind, Hold Hold, Hold? Ended);

/// <summary>
/// Which number a visitor gets from a pool, and which visitor a call belongs to. Pure: the state is passed in,
/// the decision comes out; the stores (in process, or a Redis script that follows the same steps) keep the state.
/// </summary>
public static class AssignmentPolicy
{
    /// <summary>
    /// The number for <paramref name="visitor"/> at <paramref name="nowMs"/>:
    /// <list type="number">
    /// <item>the visitor's own number while their hold is active (extended to now);</item>
    /// <item>else a free number (no hold, or the hold ended): the visitor's previous one if still free, else the one
    /// free the longest (never held first, then by when its hold ended, then in pool order), so a late call to a
    /// recently released number is less likely to meet a new holder;</item>
    /// <item>else (pool exhausted) the number of the least recently active holder (ties: pool order).</item>
    /// </list>
    /// </summary>
    /// <param name="numbers">The pool's numbers in order.</param>
    /// <param name="current">The latest hold of each number (active or not); missing: never held.</param>
    /// <param name="visitorsNumber">The number the visitor was last given, if any.</param>
    public static Assignment Decide(IReadOnlyList<string> numbers, Func<string, Hold?> current, string? visitorsNumber,
        string visitor, string session, long nowMs, long holdMs)
    {
        if (visitorsNumber is not null && current(visitorsNumber) is { } mine && mine.Visitor == visitor && mine.IsActive(nowMs, holdMs))
        {
            var extended = mine with { Session = session, LastMs = Math.Max(mine.LastMs, nowMs) };
            return new Assignment(mine.Number, AssignmentKind.Kept, extended, null);
        }

        string? free = null;
        var freeSince = long.MaxValue;
        string? oldest = null;
        var oldestLast = long.MaxValue;
        foreach (var number in numbers)
        {
            var hold = current(number);
            if (hold is null || !hold.IsActive(nowMs, holdMs))
            {
                if (hold is not null && number == visitorsNumber && hold.Visitor == visitor)
                {
                    free = number;
                    break;
                }
                var since = hold is null ? long.MinValue : hold.LastMs + holdMs;
                if (since < freeSince)
                {
                    free = number;
                    freeSince = since;
                }
            }
            else if (hold.LastMs < oldestLast)
            {
                oldest = number;
                oldestLast = hold.LastMs;
            }
        }
        var chosen = free ?? oldest!;
        var ended = current(chosen);
        // A new hold starts strictly after the one it ends, so "the latest assigned" is never a tie.
        var from = ended is null ? nowMs : Math.Max(nowMs, ended.FromMs + 1);
        return new Assignment(chosen, free is null ? AssignmentKind.Reused : AssignmentKind.Free,
            new Hold(chosen, visitor, session, from, Math.Max(from, nowMs)), ended);
    }

    /// <summary>The hold a call to a number at <paramref name="atMs"/> belongs to: of the holds covering that time, the latest assigned.</summary>
    public static Hold? Match(IEnumerable<Hold> holdsOfNumber, long atMs, long holdMs)
    {
        Hold? best = null;
        foreach (var h in holdsOfNumber)
        {
            if (h.Covers(atMs, holdMs) && (best is null || h.FromMs > best.FromMs))
            {
                best = h;
            }
        }
        return best;
    }
}
