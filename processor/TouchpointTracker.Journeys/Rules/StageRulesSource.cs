namespace TouchpointTracker.Journeys.Rules;

/// <summary>
/// The current <see cref="JourneyProcessor"/> built from the rules file, reloaded when the file changes.
/// The file is checked on an interval (modification time and size), which also works where file-system
/// events do not (container volumes, Kubernetes ConfigMaps swapped through symlinks). A file that no
/// longer validates is reported and the rules in use stay as they are.
/// Used by the processor and by the collector's embedded mode (setting <c>Journeys:RulesPath</c>).
/// </summary>
public sealed class StageRulesSource : IDisposable
{
    private readonly JourneySettings _settings;
    private readonly Timer? _timer;
    private readonly Lock _lock = new();
    private JourneyProcessor _current;
    private (DateTime Modified, long Length) _seen;

    /// <summary>Loads the rules at once (throws <see cref="StageRulesException"/> when they are invalid).</summary>
    public StageRulesSource(string? path, JourneySettings settings, TimeSpan? pollInterval = null)
    {
        Path = string.IsNullOrWhiteSpace(path) ? null : System.IO.Path.GetFullPath(path);
        _settings = settings;
        if (Path is null)
        {
            _current = new JourneyProcessor(StageEngine.CreateDefault(), settings);
            return;
        }
        _seen = Stamp(Path);
        _current = new JourneyProcessor(StageEngine.Load(Path), settings);
        var interval = pollInterval ?? TimeSpan.FromSeconds(1);
        if (interval > TimeSpan.Zero)
        {
            _timer = new Timer(_ => CheckForChange(), null, interval, interval);
        }
    }

    /// <summary>The rules file, or null for the rules that ship with the product.</summary>
    public string? Path { get; }

    public JourneyProcessor Current => Volatile.Read(ref _current);

    /// <summary>Raised after new rules are in use; the argument describes them.</summary>
    public event Action<string>? Reloaded;

    /// <summary>Raised when the file changed but cannot be used; the rules in use stay.</summary>
    public event Action<StageRulesException>? ReloadFailed;

    /// <summary>Loads the file now if it changed since the last load. Returns true when new rules are in use.</summary>
    public bool CheckForChange()
    {
        if (Path is null)
        {
            return false;
        }
        lock (_lock)
        {
            var stamp = Stamp(Path);
            if (stamp == _seen)
            {
                return false;
            }
            _seen = stamp;
            try
            {
                var engine = StageEngine.Load(Path);
                Volatile.Write(ref _current, new JourneyProcessor(engine, _settings));
            }
            catch (StageRulesException ex)
            {
                ReloadFailed?.Invoke(ex);
                return false;
            }
        }
        Reloaded?.Invoke($"{Path}: {Current.Engine.Rules.Count} rules, {Current.Engine.ScoreBands.Count} score bands");
        return true;
    }

    private static (DateTime, long) Stamp(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
        }
        catch (IOException)
        {
            return (DateTime.MinValue, -1);
        }
    }

    public void Dispose() => _timer?.Dispose();
}
