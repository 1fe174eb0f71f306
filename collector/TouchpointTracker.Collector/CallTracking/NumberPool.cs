using System.Collections.Frozen;

namespace TouchpointTracker.Collector.CallTracking;

/// <summary>A validated pool: numbers in E.164, the published number it replaces, the channels it serves, its hold and match window.</summary>
public sealed class NumberPool
{
    public const string DefaultSource = "Call tracking";

    public required string Site { get; init; }
    public required string Name { get; init; }

    /// <summary>The tracking numbers (E.164), in configuration order: the order free numbers are handed out in.</summary>
    public required IReadOnlyList<string> Numbers { get; init; }

    /// <summary>The published number (E.164).</summary>
    public required string Replaces { get; init; }

    /// <summary>The published number as configured (its grouping is the display's).</summary>
    public required string ReplacesText { get; init; }

    /// <summary>The published number's country calling code (<c>33</c>): national forms are read with it.</summary>
    public required string CountryCode { get; init; }

    /// <summary>Channel display names this pool serves; empty for the default pool.</summary>
    public required FrozenSet<string> Channels { get; init; }

    public required TimeSpan Hold { get; init; }
    public required TimeSpan MatchWindow { get; init; }

    /// <summary>The source of a call to this pool that no visitor held.</summary>
    public required string Source { get; init; }

    public bool IsDefault => Channels.Count == 0;

    /// <summary>The national display of one of the pool's numbers, grouped like the published number.</summary>
    public string DisplayOf(string e164) => PhoneNumbers.Display(e164, ReplacesText);

    public override string ToString() => $"{Site}/{Name}";
}
