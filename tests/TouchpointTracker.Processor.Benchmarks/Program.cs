using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using BenchmarkDotNet.Running;
using StackExchange.Redis;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Processor.Benchmarks;
using TouchpointTracker.Processor.Staging;
using TouchpointTracker.Processor.State;
using TouchpointTracker.Processor.Tests.Support;

// Figures for docs/processor.md: events per second per core through the journey engine, with the state
// in memory and in Redis, and bytes of state per visitor. Single-threaded on purpose (one core); the
// processor scales out by partitions, one loop per instance.
//
//   dotnet run -c Release --project tests/TouchpointTracker.Processor.Benchmarks [-- --visitors 20000] [-- --redis host:port]
//   dotnet run -c Release --project tests/TouchpointTracker.Processor.Benchmarks -- --bdn   (BenchmarkDotNet, engine only)
//   options: --runs 2 (every figure again, to see it is stable), --batch 1000, --identity (identity's cost), --breakdown (parse / serialise / path groups / apply apart), --show-state (one visitor's state)
if (args.Contains("--bdn"))
{
    BenchmarkRunner.Run<EngineBenchmarks>(args: [.. args.Where(a => a != "--bdn")]);
    return;
}
var visitors = Arg("--visitors", 20_000);
var batchSize = Arg("--batch", 1000);
var redisConfig = args.SkipWhile(a => a != "--redis").Skip(1).FirstOrDefault();

var input = SyntheticStream.Generate(visitors, seed: 42);
var journeys = new JourneyProcessor(StageEngine.CreateDefault(), JourneySettings.Default);
Console.WriteLine($"TouchpointTracker processor benchmark, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {LoadAverage()}: {input.Count:N0} touchpoints of {visitors:N0} visitors, batches of {batchSize}, default rules, one thread");
Console.WriteLine($"  .NET {Environment.Version}, {Environment.ProcessorCount} cores, {(Debugger.IsAttached ? "DEBUGGER" : "no debugger")}, {(typeof(EngineBenchmarks).Assembly.GetCustomAttributes(false).OfType<DebuggableAttribute>().Any(d => d.IsJITOptimizerDisabled) ? "DEBUG build (use -c Release)" : "Release build")}");

// Warm-up, then the measured runs. The runtime compiles hot methods twice (tiered compilation: a quick version first,
// an optimised one after ~30 calls, in the background, with on-stack replacement for long loops), so a short warm-up
// left the first measured run at about half the steady rate. The warm-up runs every measured path over a small stream
// until --warmup-seconds (default 3) have passed and at least 5 rounds were made.
var warmupStream = SyntheticStream.Generate(2_000, seed: 1);
var warmupWatch = Stopwatch.StartNew();
var warmupRounds = 0;
while (warmupRounds < 5 || warmupWatch.Elapsed.TotalSeconds < Arg("--warmup-seconds", 3))
{
    RunObjects(journeys, warmupStream);
    await RunStoreAsync(journeys, new InMemoryJourneyStateStore(), warmupStream, batchSize);
    await RunStoreAsync(journeys, new JsonInMemoryStore(), warmupStream, batchSize);
    warmupRounds++;
}
Console.WriteLine($"  warm-up: {warmupRounds} rounds over {warmupStream.Count:N0} touchpoints in {warmupWatch.Elapsed.TotalSeconds:N1} s");

if (args.Contains("--breakdown"))
{
    var parsed = input.Select(r => JsonSerializer.Deserialize(r.Value, ContractsJsonContext.Default.Touchpoint)!).ToList();
    Report("parse only", input.Count, Measure(() => { foreach (var r in input) { JsonSerializer.Deserialize(r.Value, ContractsJsonContext.Default.Touchpoint); } }));
    Report("serialise only", input.Count, Measure(() => { foreach (var t in parsed) { JsonSerializer.SerializeToUtf8Bytes(t, ContractsJsonContext.Default.Touchpoint); } }));
    Report("path groups only", input.Count, Measure(() => { foreach (var t in parsed) { journeys.Engine.PathGroups.Classify(t.Page.Path); } }));
    var st = new Dictionary<string, JourneyState>();
    Report("apply only", input.Count, Measure(() => { foreach (var t in parsed) { if (!st.TryGetValue(t.VisitorId, out var s)) { s = new JourneyState(); st[t.VisitorId] = s; } journeys.Apply(t, s); } }));
}
var objects = Measure(() => RunObjects(journeys, input));
Report("engine, state as objects in memory (parse + stage + serialise outputs)", input.Count, objects);

if (args.Contains("--identity"))
{
    // Identity's cost on the engine: the same stream staged with identity resolution (state in memory, no Redis),
    // once as it is and once with every tenth visitor identified (hashed user id and e-mail) half-way through.
    var resolver = TouchpointTracker.Journeys.Identity.IdentityResolver.Default;
    Report("engine with identity (in memory), stream as is", input.Count, Measure(() => RunIdentity(journeys, resolver, input, batchSize)));
    var identified = SyntheticStream.WithIdentifies(input, everyNth: 10);
    Report("engine with identity (in memory), 1 visitor in 10 identified", identified.Count, Measure(() => RunIdentity(journeys, resolver, identified, batchSize)));
    Report("engine without identity, the same identified stream", identified.Count, Measure(() => RunWithout(journeys, identified, batchSize)));
}

var runs = Arg("--runs", 1);
for (var run = 1; run <= runs; run++)
{
    if (runs > 1)
    {
        Console.WriteLine($"run {run} of {runs} (load average {LoadAverage()})");
        if (run > 1)
        {
            Report("engine, state as objects in memory (parse + stage + serialise outputs)", input.Count, Measure(() => RunObjects(journeys, input)));
        }
    }
    var json = new JsonInMemoryStore();
    Report("engine + state as JSON in memory (load/save per batch; the former state format)", input.Count, await MeasureAsync(() => RunStoreAsync(journeys, json, input, batchSize)));
    var memory = new InMemoryJourneyStateStore();
    Report("engine + state encoded in memory (load/save per batch; JourneyStateCodec)", input.Count, await MeasureAsync(() => RunStoreAsync(journeys, memory, input, batchSize)));
    var sizes = memory.Values.Select(v => v.Length).Order().ToArray();
    Console.WriteLine($"  state per visitor ({memory.Count:N0} visitors, 1-3 sessions each): {memory.Bytes / (double)memory.Count:N0} B encoded on average " +
        $"(median {sizes[sizes.Length / 2]:N0} B, p90 {sizes[sizes.Length * 9 / 10]:N0} B, max {sizes[^1]:N0} B); the same states as JSON {json.Bytes / (double)json.Count:N0} B");
    if (args.Contains("--show-state") && run == 1)
    {
        var sampleStates = new Dictionary<string, JourneyState?>();
        await memory.LoadAsync(new PartitionClaim(input[0].Partition, 0, null), [input[0].Key], sampleStates, CancellationToken.None);
        Console.WriteLine(JsonSerializer.Serialize(sampleStates.Values.First(), JourneysJsonContext.Default.JourneyState));
    }
    await RunRedisAsync(run);
}

async Task RunRedisAsync(int run)
{
    using var redisServer = redisConfig is null ? RedisProcess.TryStart() : null;
    var config = redisConfig ?? redisServer?.Configuration;
    if (config is null)
    {
        Console.WriteLine("  (no redis-server found and no --redis given: Redis figures skipped)");
        return;
    }
    using var redis = await ConnectionMultiplexer.ConnectAsync(config);
    var server = redis.GetServer(redis.GetEndPoints()[0]);
    var db = redis.GetDatabase();
    var retention = TimeSpan.FromDays(31);

    var usedBefore = UsedMemory(server);
    var redisCpu = RedisCpu(server);
    var store = new RedisJourneyStateStore(redis, "tt:bench", $"bench-{run}", "tt.touchpoints", retention, TimeProvider.System);
    var plain = await MeasureAsync(() => RunStoreAsync(journeys, store, input, batchSize));
    Report("engine + state in Redis, no cache (pipelined HGET per batch, one Lua save per partition and batch)", input.Count, plain, RedisCpu(server) - redisCpu);
    var usedAfter = UsedMemory(server);
    var sample = new List<long>();
    foreach (var tp in input.Take(2000))
    {
        var key = store.VisitorKey(tp.Partition, tp.Key);
        if ((long?)await db.ExecuteAsync("MEMORY", "USAGE", key, "SAMPLES", "0") is { } bytes)
        {
            sample.Add(bytes);
        }
    }
    Console.WriteLine($"  Redis: {(usedAfter - usedBefore) / (double)visitors:N0} B of used_memory per visitor; MEMORY USAGE of a visitor's hash: mean {sample.Average():N0} B, max {sample.Max():N0} B");

    redisCpu = RedisCpu(server);
    var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
    var cache = new CachingJourneyStateStore(
        new RedisJourneyStateStore(redis, "tt:bench", $"bench-cached-{run}", "tt.touchpoints", retention, TimeProvider.System), visitors * 2, retention, TimeProvider.System);
    var cached = await MeasureAsync(() => RunStoreAsync(journeys, cache, input, batchSize));
    Report("engine + state in Redis behind the in-process cache (write-through; loads of states saved before come from memory)", input.Count, cached, RedisCpu(server) - redisCpu);
    var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
    Console.WriteLine($"  cache: {cache.Hits:N0} hits, {cache.Misses:N0} misses (a visitor's first load); {cache.Count:N0} states held, about {(heapAfter - heapBefore) / (double)Math.Max(1, cache.Count):N0} B of heap each");
    GC.KeepAlive(cache);
}

int Arg(string name, int fallback) =>
    args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() is { } v && int.TryParse(v, out var n) ? n : fallback;

static long UsedMemory(IServer server) =>
    long.Parse(server.Info("memory").SelectMany(g => g).First(kv => kv.Key == "used_memory").Value, System.Globalization.CultureInfo.InvariantCulture);

static (TimeSpan Wall, TimeSpan Cpu, long Allocated) Measure(Action run)
{
    GC.Collect();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var allocated = GC.GetTotalAllocatedBytes(precise: true);
    var watch = Stopwatch.StartNew();
    run();
    return (watch.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu, GC.GetTotalAllocatedBytes(precise: true) - allocated);
}

static async Task<(TimeSpan Wall, TimeSpan Cpu, long Allocated)> MeasureAsync(Func<Task> run)
{
    GC.Collect();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var allocated = GC.GetTotalAllocatedBytes(precise: true);
    var watch = Stopwatch.StartNew();
    await run();
    return (watch.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu, GC.GetTotalAllocatedBytes(precise: true) - allocated);
}

static void Report(string what, int events, (TimeSpan Wall, TimeSpan Cpu, long Allocated) t, double? redisCpuSeconds = null) =>
    Console.WriteLine($"- {what}:{Environment.NewLine}    {events / t.Wall.TotalSeconds,10:N0} events/s wall clock; {events / t.Cpu.TotalSeconds,10:N0} events per CPU-second of this process ({t.Wall.TotalSeconds:0.00} s, {t.Cpu.TotalSeconds:0.00} s CPU, {t.Allocated / (double)events:N0} B allocated per event)"
        + (redisCpuSeconds is { } r ? $"{Environment.NewLine}    {events / (t.Cpu.TotalSeconds + r),10:N0} events per CPU-second of this process and redis-server together (redis-server {r:0.00} s CPU)" : ""));

static double RedisCpu(IServer server)
{
    var cpu = server.Info("cpu").SelectMany(g => g).ToDictionary(kv => kv.Key, kv => kv.Value);
    return double.Parse(cpu["used_cpu_user"], System.Globalization.CultureInfo.InvariantCulture) + double.Parse(cpu["used_cpu_sys"], System.Globalization.CultureInfo.InvariantCulture);
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

static void RunObjects(JourneyProcessor journeys, List<Record> input)
{
    var states = new Dictionary<string, JourneyState>(StringComparer.Ordinal);
    long bytes = 0;
    foreach (var r in input)
    {
        var tp = JsonSerializer.Deserialize(r.Value, ContractsJsonContext.Default.Touchpoint)!;
        if (!states.TryGetValue(r.Key, out var state))
        {
            state = new JourneyState();
            states[r.Key] = state;
        }
        var step = journeys.Apply(tp, state);
        if (step.Staged is { } staged)
        {
            bytes += JsonSerializer.SerializeToUtf8Bytes(staged, ContractsJsonContext.Default.Touchpoint).Length;
        }
        if (step.Transition is { } transition)
        {
            bytes += JsonSerializer.SerializeToUtf8Bytes(transition, JourneysJsonContext.Default.StageTransition).Length;
        }
    }
    GC.KeepAlive(bytes);
}

static void RunIdentity(JourneyProcessor journeys, TouchpointTracker.Journeys.Identity.IdentityResolver resolver, List<Record> input, int batchSize)
{
    var identity = new BatchIdentity();
    var states = new Dictionary<int, Dictionary<string, JourneyState?>>();
    foreach (var batch in input.Chunk(batchSize))
    {
        foreach (var slice in batch.GroupBy(r => r.Partition))
        {
            if (!states.TryGetValue(slice.Key, out var partitionStates))
            {
                states[slice.Key] = partitionStates = new Dictionary<string, JourneyState?>(StringComparer.Ordinal);
            }
            identity.Visitors = partitionStates;
            var parsed = BatchStager.Parse([.. slice.Select(r => new InputRecord(r.Partition, r.Offset, r.Value))]);
            BatchStager.Stage(journeys, parsed, partitionStates, resolver: resolver, identity: identity);
        }
    }
}

static void RunWithout(JourneyProcessor journeys, List<Record> input, int batchSize)
{
    var states = new Dictionary<int, Dictionary<string, JourneyState?>>();
    foreach (var batch in input.Chunk(batchSize))
    {
        foreach (var slice in batch.GroupBy(r => r.Partition))
        {
            if (!states.TryGetValue(slice.Key, out var partitionStates))
            {
                states[slice.Key] = partitionStates = new Dictionary<string, JourneyState?>(StringComparer.Ordinal);
            }
            var parsed = BatchStager.Parse([.. slice.Select(r => new InputRecord(r.Partition, r.Offset, r.Value))]);
            BatchStager.Stage(journeys, parsed, partitionStates);
        }
    }
}

static async Task RunStoreAsync(JourneyProcessor journeys, IJourneyStateStore store, List<Record> input, int batchSize)
{
    var claims = new Dictionary<int, PartitionClaim>();
    foreach (var partition in input.GroupBy(r => r.Partition))
    {
        claims[partition.Key] = await store.ClaimAsync(partition.Key, CancellationToken.None);
    }
    foreach (var batch in input.Chunk(batchSize))
    {
        foreach (var slice in batch.GroupBy(r => r.Partition))
        {
            var claim = claims[slice.Key];
            var parsed = BatchStager.Parse([.. slice.Select(r => new InputRecord(r.Partition, r.Offset, r.Value))]);
            var states = new Dictionary<string, JourneyState?>(StringComparer.Ordinal);
            await store.LoadAsync(claim, [.. parsed.Select(p => p.Key!).Distinct(StringComparer.Ordinal)], states, CancellationToken.None);
            var outcome = BatchStager.Stage(journeys, parsed, states);
            await store.SaveAsync(claim, slice.Last().Offset, outcome.Changed, CancellationToken.None);
        }
    }
}

/// <summary>A redis-server of its own on a free port, when one is installed.</summary>
internal sealed class RedisProcess : IDisposable
{
    private readonly Process _process;

    private RedisProcess(Process process, int port)
    {
        _process = process;
        Configuration = $"127.0.0.1:{port},abortConnect=false,allowAdmin=true";
    }

    public string Configuration { get; }

    public static RedisProcess? TryStart()
    {
        var exe = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);
        if (exe is null)
        {
            return null;
        }
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var process = Process.Start(new ProcessStartInfo(exe, $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no --loglevel warning")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                break;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }
        return new RedisProcess(process, port);
    }

    public void Dispose()
    {
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}
