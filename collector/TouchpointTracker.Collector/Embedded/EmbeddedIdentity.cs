using System.Text.Json;
using Microsoft.Extensions.Options;
using TouchpointTracker.Journeys.Identity;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// The embedded mode's identity state: persons, the identifier index and the unmatched offline events, in
/// memory (<see cref="InMemoryIdentityState"/>, bounded by <c>Identity:*</c>) and in <c>identity.json</c> beside
/// the journey states, rewritten whole (atomically: a temporary file moved over it) when it changed, at the
/// same moments as the journey states are saved. The staging loop and the API share it under <see cref="Gate"/>.
/// </summary>
public sealed class EmbeddedIdentity : Analytics.IUnmatchedEvents
{
    private readonly string _path;

    public EmbeddedIdentity(InMemoryJourneyStore visitors, EmbeddedStorage storage, IOptions<IdentityOptions> options)
    {
        var o = options.Value;
        State = new InMemoryIdentityState(visitors, o.MaxPersons, o.MaxPersons * 4, o.MaxUnmatchedPerSite, TimeSpan.FromDays(o.UnmatchedDays));
        _path = Path.Combine(storage.DataFolder, "identity.json");
    }

    public object Gate { get; } = new();
    public InMemoryIdentityState State { get; }
    public string FilePath => _path;

    /// <summary>Reads the file left by the previous run, if any; a file that cannot be read is set aside and identity starts empty.</summary>
    public int Load()
    {
        if (!File.Exists(_path))
        {
            return 0;
        }
        try
        {
            var snapshot = JsonSerializer.Deserialize(File.ReadAllBytes(_path), Journeys.JourneysJsonContext.Default.IdentitySnapshot);
            if (snapshot is not null)
            {
                State.Restore(snapshot);
            }
            return State.PersonCount;
        }
        catch (JsonException)
        {
            File.Move(_path, _path + ".unreadable", overwrite: true);
            return 0;
        }
    }

    public Task<Analytics.UnmatchedResult> ListAsync(string site, int limit, CancellationToken ct)
    {
        lock (Gate)
        {
            var all = State.Unmatched(site);
            return Task.FromResult(new Analytics.UnmatchedResult(site, all.Count,
                [.. all.Reverse().Take(limit).Select(u => Analytics.UnmatchedEvents.Describe(u.Touchpoint))]));
        }
    }

    /// <summary>Writes everything when anything changed since the last save. Call under <see cref="Gate"/>.</summary>
    public void SaveIfChanged()
    {
        if (!State.Changed)
        {
            return;
        }
        var temp = _path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            JsonSerializer.Serialize(file, State.Snapshot(), Journeys.JourneysJsonContext.Default.IdentitySnapshot);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, _path, overwrite: true);
        State.Changed = false;
    }
}
