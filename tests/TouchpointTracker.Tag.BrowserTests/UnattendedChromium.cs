using System.Diagnostics;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>
/// Headless Chromium started as a plain process on one URL, with a fresh profile and no DevTools client: for
/// what Chromium does not do while one is attached. Prerendering is such a thing: Chromium refuses to prerender
/// for a page that a DevTools session without tab-target support watches (Playwright's are such sessions; the
/// prerender fails with PrerenderingDisabledByDevTools). The page itself must then play the visitor.
/// </summary>
public sealed class UnattendedChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _profile;

    private UnattendedChromium(Process process, DirectoryInfo profile)
    {
        _process = process;
        _profile = profile;
    }

    public static UnattendedChromium Start(string url)
    {
        var profile = Directory.CreateTempSubdirectory("tt-chromium-");
        var start = new ProcessStartInfo(Chromium.ExecutableOrThrow)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in Chromium.Switches.Append("--headless").Append("--user-data-dir=" + profile.FullName).Append(url))
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("Chromium did not start.");
        // Its log (D-Bus complaints of a machine without a session bus...) is read and dropped.
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new UnattendedChromium(process, profile);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
        try
        {
            _profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A child process may still hold a file for a moment; the temp folder is cleaned up later anyway.
        }
    }
}
