using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace TouchpointTracker.ScaleOut.Tests.Support;

/// <summary>
/// A real nginx run from infra/nginx/nginx.test.conf.template, rendered as its header says, unprivileged
/// on a free loopback port, in front of the given collector ports (passive health: max_fails=1 fail_timeout=5s).
/// </summary>
public sealed class NginxLoadBalancer : IAsyncDisposable
{
    private static readonly string[] Candidates = ["/usr/sbin/nginx", "/usr/bin/nginx"];

    private readonly Process _process;
    private readonly string _prefix;

    private NginxLoadBalancer(Process process, string prefix, int port)
    {
        _process = process;
        _prefix = prefix;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
    }

    public Uri BaseAddress { get; }
    public static string? Executable => Candidates.FirstOrDefault(File.Exists);

    /// <summary>nginx's error log so far (for failure messages).</summary>
    public string ErrorLog => ReadQuietly(Path.Combine(_prefix, "error.log"));

    /// <summary>Access-log lines whose upstream status list shows a retry on another collector (e.g. "502, 202").</summary>
    public int RetriedUpstreamRequests => ReadQuietly(Path.Combine(_prefix, "access.log"))
        .Split('\n').Count(l => l.Contains("upstream_status=", StringComparison.Ordinal) && l[l.IndexOf("upstream_status=", StringComparison.Ordinal)..].Split(' ')[0].Contains(',', StringComparison.Ordinal));

    public static async Task<NginxLoadBalancer> StartAsync(int listenPort, IEnumerable<int> upstreamPorts)
    {
        var exe = Executable ?? throw new InvalidOperationException("nginx is not installed (apt-get install nginx; the README's test command does it).");
        var prefix = Directory.CreateTempSubdirectory("tt-scaleout-nginx-").FullName;
        var conf = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(conf, Render(prefix, listenPort, upstreamPorts));
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-p", prefix, "-c", conf, "-g", "daemon off;" })
        {
            psi.ArgumentList.Add(a);
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("nginx did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var lb = new NginxLoadBalancer(process, prefix, listenPort);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            if (process.HasExited)
            {
                var log = lb.ErrorLog;
                await lb.DisposeAsync();
                throw new InvalidOperationException($"nginx exited with code {process.ExitCode}: {log}");
            }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", listenPort);
                return lb;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>The template with exactly its three tokens replaced (see its header).</summary>
    public static string Render(string prefix, int listenPort, IEnumerable<int> upstreamPorts)
    {
        var template = File.ReadAllText(TemplatePath());
        var upstreams = string.Join(" ", upstreamPorts.Select(p => $"server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;"));
        var rendered = template
            .Replace("${PREFIX}", prefix, StringComparison.Ordinal)
            .Replace("${LISTEN_PORT}", listenPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("${UPSTREAMS}", upstreams, StringComparison.Ordinal);
        if (rendered.Contains("${", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("the nginx test template has a token other than ${PREFIX}, ${LISTEN_PORT}, ${UPSTREAMS}");
        }
        return rendered;
    }

    private static string TemplatePath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "infra", "nginx", "nginx.test.conf.template");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException("infra/nginx/nginx.test.conf.template not found above " + AppContext.BaseDirectory);
    }

    private static string ReadQuietly(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_prefix, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
