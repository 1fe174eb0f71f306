namespace TouchpointTracker.Journeys;

/// <summary>
/// What staging a run of touches produced, by outcome: the one tally the processor and the embedded mode
/// both keep (and export under the same metric names).
/// </summary>
public class StagingTally
{
    public int Staged { get; set; }
    /// <summary>Touches whose event id was already staged (delivered twice upstream).</summary>
    public int Duplicates { get; set; }
    /// <summary>Touches of bots: counted, not staged, no journey state kept.</summary>
    public int Bots { get; set; }
    /// <summary>Messages that were not a touchpoint (the processor's input only).</summary>
    public int Invalid { get; set; }
    /// <summary>Staged touches older than the journey's latest one, placed in the session they belong to.</summary>
    public int Late { get; set; }
    /// <summary>Staged touches older than the late event window, evaluated at their own time (a correction).</summary>
    public int TooLate { get; set; }
    /// <summary>The stage reached by each stage change, in order (corrected transitions are not stage changes and are left out).</summary>
    public List<string> TransitionsTo { get; } = [];
    /// <summary>The type of each conversion produced, in order.</summary>
    public List<string> ConversionTypes { get; } = [];
    /// <summary>Conversions not produced because their order, deal or lead id had already converted.</summary>
    public int DuplicateConversions { get; set; }
    /// <summary>Conversions with a value whose currency has no configured rate (no reporting value).</summary>
    public int UnknownCurrency { get; set; }

    /// <summary>Counts one step's outcome.</summary>
    public void Count(in JourneyStep step)
    {
        switch (step.Outcome)
        {
            case TouchOutcome.Duplicate:
                Duplicates++;
                return;
            case TouchOutcome.Bot:
                Bots++;
                return;
        }
        Staged++;
        if (step.Lateness == Lateness.Late)
        {
            Late++;
        }
        else if (step.Lateness == Lateness.TooLate)
        {
            TooLate++;
        }
        if (step.Transition is { IsCorrection: false } transition)
        {
            TransitionsTo.Add(transition.ToStage);
        }
        if (step.DuplicateConversion)
        {
            DuplicateConversions++;
        }
        if (step.Conversion is { } conversion)
        {
            ConversionTypes.Add(conversion.Type);
            if (conversion.Value is not null && conversion.ReportingValue is null)
            {
                UnknownCurrency++;
            }
        }
    }

    public void Clear()
    {
        Staged = Duplicates = Bots = Invalid = Late = TooLate = DuplicateConversions = UnknownCurrency = 0;
        TransitionsTo.Clear();
        ConversionTypes.Clear();
    }
}

/// <summary>Where a host keeps journey state: found or created for a touch's visitor.</summary>
public interface IJourneyStateLookup
{
    JourneyState GetOrCreate(Contracts.Touchpoint touchpoint);
}
