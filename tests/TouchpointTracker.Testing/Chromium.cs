using Microsoft.Playwright;

namespace TouchpointTracker.Testing;

/// <summary>Debian's Chromium, headless, driven by Playwright (no browser download: the system one is used).</summary>
public static class Chromium
{
    public static string? Executable =>
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path
        : File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium"
        : null;

    /// <summary>
    /// A desktop Chrome user agent: headless Chromium announces itself as "HeadlessChrome", which the
    /// collector rightly treats as a bot; tests play a real visitor's browser.
    /// </summary>
    public const string DesktopUserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    /// <summary>The switches every headless Chromium of the tests runs with.</summary>
    public static IReadOnlyList<string> Switches { get; } =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
        "--user-agent=" + DesktopUserAgent,
    ];

    /// <summary>
    /// Launches Chromium for Playwright. Playwright switches the back/forward cache off by default
    /// (<c>--disable-back-forward-cache</c>); <paramref name="backForwardCache"/> keeps it on, as in a
    /// visitor's browser.
    /// </summary>
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright, bool backForwardCache = false) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutableOrThrow,
            Headless = true,
            Args = Switches,
            IgnoreDefaultArgs = backForwardCache ? ["--disable-back-forward-cache"] : null,
        });

    public static string ExecutableOrThrow =>
        Executable ?? throw new InvalidOperationException("Chromium is not installed (apt-get install chromium; the README's test command does it).");
}
