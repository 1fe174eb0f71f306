using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TouchpointTracker.Testing;

/// <summary>POSIX signals for processes started by tests (.NET's Process can only SIGKILL).</summary>
public static partial class Signals
{
    private const int SigTerm = 15;

    /// <summary>
    /// Sends SIGTERM (what a container runtime or systemd sends on stop) and waits for the process to
    /// exit; SIGKILL if it has not exited within <paramref name="timeout"/>. Returns true when it exited by itself.
    /// </summary>
    public static async Task<bool> TerminateAsync(Process process, TimeSpan timeout)
    {
        if (process.HasExited)
        {
            return true;
        }
        if (kill(process.Id, SigTerm) != 0 && !process.HasExited)
        {
            throw new InvalidOperationException($"kill({process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return false;
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
