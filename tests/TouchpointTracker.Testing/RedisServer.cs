using System.Diagnostics;
using System.Net.Sockets;

namespace TouchpointTracker.Testing;

/// <summary>
/// A real redis-server on a free loopback port, without persistence, owned by one test fixture.
/// It can be stopped and started again on the same port to test outages.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private Process? _process;

    private readonly string? _dataDirectory;

    private RedisServer(int port, string? dataDirectory = null)
    {
        Port = port;
        _dataDirectory = dataDirectory;
    }

    public int Port { get; }
    public string Configuration => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=2000";
    public bool IsRunning => _process is { HasExited: false };

    private static readonly string[] Candidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];

    public static string? Executable => Candidates.FirstOrDefault(File.Exists);

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(FreePort.Next());
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>
    /// A server that keeps its data across <see cref="StopAsync"/> (even SIGKILL) and <see cref="StartAgainAsync"/>:
    /// append-only file fsynced before every reply, in a temporary folder removed on dispose. This is the
    /// configuration under which an acknowledged write survives a Redis crash.
    /// </summary>
    public static async Task<RedisServer> StartDurableAsync()
    {
        var dir = Directory.CreateTempSubdirectory("tt-redis-").FullName;
        var server = new RedisServer(FreePort.Next(), dir);
        await server.StartAgainAsync();
        return server;
    }

    public bool IsDurable => _dataDirectory is not null;

    public async Task StartAgainAsync()
    {
        var exe = Executable ?? throw new InvalidOperationException("redis-server is not installed (apt-get install redis-server; the README's test command does it).");
        var persistence = _dataDirectory is null
            ? "--appendonly no"
            : $"--appendonly yes --appendfsync always --dir \"{_dataDirectory}\"";
        var psi = new ProcessStartInfo(exe, $"--port {Port} --bind 127.0.0.1 --save \"\" {persistence} --protected-mode no --loglevel warning")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitForPortAsync(Port, TimeSpan.FromSeconds(10));
    }

    /// <summary>Kills the server at once (SIGKILL): what an outage looks like to clients.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_dataDirectory is not null)
        {
            try
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    internal static async Task WaitForPortAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}
