namespace TouchpointTracker.Collector.Forwarding;

/// <summary>How one produce attempt of an entry ended.</summary>
public enum EntryOutcome : byte
{
    Delivered,
    Retriable,
    Fatal,
    Rejected,
}

/// <summary>
/// After one produce attempt of a batch: which entries to acknowledge, which to dead-letter, which to
/// produce again. Pure.
/// </summary>
public static class RetryPlan
{
    /// <summary>
    /// Splits <paramref name="attempted"/> (indices into the batch, in stream order). An entry that failed
    /// (retriably or fatally) is produced again; so is every later entry of the same key, even one Kafka
    /// confirmed, so the key's events reach Kafka again in their order after the retry. Confirmed entries
    /// not repeated are acknowledged; rejected ones are dead-lettered.
    /// </summary>
    public static void Split(
        IReadOnlyList<int> attempted,
        Func<int, EntryOutcome> outcome,
        Func<int, string> keyOf,
        List<int> acknowledge,
        List<int> deadLetter,
        List<int> retry)
    {
        HashSet<string>? failedKeys = null;
        foreach (var index in attempted)
        {
            var o = outcome(index);
            if (o is EntryOutcome.Retriable or EntryOutcome.Fatal)
            {
                (failedKeys ??= new HashSet<string>(StringComparer.Ordinal)).Add(keyOf(index));
                retry.Add(index);
            }
            else if (failedKeys is not null && failedKeys.Contains(keyOf(index)))
            {
                // A later entry of a key that failed: keep it behind the failed one.
                if (o == EntryOutcome.Rejected)
                {
                    deadLetter.Add(index);
                }
                else
                {
                    retry.Add(index);
                }
            }
            else if (o == EntryOutcome.Rejected)
            {
                deadLetter.Add(index);
            }
            else
            {
                acknowledge.Add(index);
            }
        }
    }
}
