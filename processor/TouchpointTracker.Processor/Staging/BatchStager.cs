using System.Text;
using System.Text.Json;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Conversions;
using TouchpointTracker.Journeys.Identity;

namespace TouchpointTracker.Processor.Staging;

/// <summary>One input message: where it came from and its body.</summary>
public readonly record struct InputRecord(int Partition, long Offset, byte[]? Value);

public enum OutputKind
{
    Staged,
    Transition,
    /// <summary>A conversion record (tt.conversions).</summary>
    Conversion,
    /// <summary>A touch to stage again under a visitor id (an offline event matched by identity): back to the input topic, keyed by its visitor.</summary>
    Rekeyed,
}

/// <summary>A message to publish, on the same partition number as the input it came from.</summary>
public sealed record OutputMessage(OutputKind Kind, int Partition, long SourceOffset, byte[] Key, byte[] Value);

/// <summary>A parsed input touchpoint (null when the message was not a valid touchpoint) and its state key.</summary>
public readonly record struct ParsedRecord(InputRecord Record, Touchpoint? Touchpoint, string? Key);

/// <summary>What staging one partition's slice of a batch produced: the tally, the outputs, the states to save.</summary>
public sealed class BatchOutcome : StagingTally
{
    public List<OutputMessage> Outputs { get; } = [];
    /// <summary>States changed by the batch, by key, to save.</summary>
    public Dictionary<string, JourneyState> Changed { get; } = new(StringComparer.Ordinal);
    /// <summary>Outputs not published again because an earlier run already published them (recovery).</summary>
    public int Suppressed { get; set; }
}

/// <summary>
/// Stages a batch of one partition: parse, apply each touch to its visitor's state in offset order, and
/// build the output messages. No I/O: the caller loads the states before and saves them after, so the
/// Kafka loop, the benchmark and the unit tests share this code.
/// </summary>
public static class BatchStager
{
    public static List<ParsedRecord> Parse(IReadOnlyList<InputRecord> records)
    {
        var parsed = new List<ParsedRecord>(records.Count);
        foreach (var r in records)
        {
            Touchpoint? tp = null;
            if (r.Value is { Length: > 0 })
            {
                try
                {
                    tp = JsonSerializer.Deserialize(r.Value, ContractsJsonContext.Default.Touchpoint);
                }
                catch (JsonException)
                {
                    tp = null;
                }
            }
            if (tp is null || string.IsNullOrEmpty(tp.EventId) || string.IsNullOrEmpty(tp.SiteId) || string.IsNullOrEmpty(tp.VisitorId))
            {
                parsed.Add(new ParsedRecord(r, null, null));
                continue;
            }
            parsed.Add(new ParsedRecord(r, tp, StateKey(tp)));
        }
        return parsed;
    }

    /// <summary>The state key and the output message key: <c>site:visitor</c>.</summary>
    public static string StateKey(Touchpoint tp) => string.Concat(tp.SiteId, ":", tp.VisitorId);

    /// <summary>
    /// Applies the parsed records in order. <paramref name="states"/> holds the loaded state of every key
    /// (null for a visitor never seen); it is updated in place. Outputs of records at or below the
    /// tails (the last source offsets already published on each output partition) are not built again.
    /// </summary>
    public static BatchOutcome Stage(JourneyProcessor journeys, IReadOnlyList<ParsedRecord> records, Dictionary<string, JourneyState?> states, long stagedTail = -1, long transitionsTail = -1,
        long conversionsTail = -1, IdentityResolver? resolver = null, BatchIdentity? identity = null)
    {
        var outcome = new BatchOutcome();
        var lookup = new BatchStates(states);
        var stager = resolver is null || identity is null ? null : new IdentityStager(journeys, resolver);
        foreach (var (record, tp, key) in records)
        {
            if (tp is null || key is null)
            {
                outcome.Invalid++;
                continue;
            }
            JourneyStep step;
            JourneyState? stagedOn;
            if (stager is not null)
            {
                var withIdentity = stager.Stage(tp, identity!, outcome, identity!.Tally);
                step = withIdentity.Step;
                stagedOn = withIdentity.State;
                foreach (var again in withIdentity.Rekeyed)
                {
                    if (record.Offset > stagedTail)
                    {
                        outcome.Outputs.Add(new OutputMessage(OutputKind.Rekeyed, record.Partition, record.Offset, Encoding.UTF8.GetBytes(StateKey(again)),
                            JsonSerializer.SerializeToUtf8Bytes(again, ContractsJsonContext.Default.Touchpoint)));
                    }
                    else
                    {
                        outcome.Suppressed++;
                    }
                }
            }
            else
            {
                lookup.Key = key;
                step = journeys.Stage(tp, lookup, outcome);
                stagedOn = states.GetValueOrDefault(key);
            }
            if (step.Outcome != TouchOutcome.Staged)
            {
                continue;
            }
            outcome.Changed[key] = states[key]!;
            var messageKey = Encoding.UTF8.GetBytes(key);
            if (record.Offset > stagedTail)
            {
                outcome.Outputs.Add(new OutputMessage(OutputKind.Staged, record.Partition, record.Offset, messageKey,
                    JsonSerializer.SerializeToUtf8Bytes(step.Staged!, ContractsJsonContext.Default.Touchpoint)));
            }
            else
            {
                outcome.Suppressed++;
            }
            if (step.Transition is { } transition)
            {
                if (record.Offset > transitionsTail)
                {
                    outcome.Outputs.Add(new OutputMessage(OutputKind.Transition, record.Partition, record.Offset, messageKey,
                        JsonSerializer.SerializeToUtf8Bytes(transition, JourneysJsonContext.Default.StageTransition)));
                }
                else
                {
                    outcome.Suppressed++;
                }
            }
            // The conversion record is read from the state as this touch left it (the next touch may change it).
            if (step.Conversion is not null && stagedOn is not null)
            {
                if (record.Offset > conversionsTail)
                {
                    var conversion = ConversionRecord.Build(step.Staged!, stagedOn, journeys.Settings.Currencies)!;
                    outcome.Outputs.Add(new OutputMessage(OutputKind.Conversion, record.Partition, record.Offset, messageKey,
                        JsonSerializer.SerializeToUtf8Bytes(conversion, JourneysJsonContext.Default.ConversionRecord)));
                }
                else
                {
                    outcome.Suppressed++;
                }
            }
        }
        return outcome;
    }

    /// <summary>The batch's loaded states by key (null for a visitor never seen); the key of the touch in hand is set before each step.</summary>
    private sealed class BatchStates(Dictionary<string, JourneyState?> states) : IJourneyStateLookup
    {
        public string Key { get; set; } = "";

        public JourneyState GetOrCreate(Touchpoint touchpoint)
        {
            if (!states.TryGetValue(Key, out var state) || state is null)
            {
                state = new JourneyState();
                states[Key] = state;
            }
            return state;
        }
    }
}
