using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>
/// Call tracking in Chromium (tt.full.js, data-phone): the published number in text, in a tel: link and added
/// later by the page's script shows the visitor's tracking number; a reload keeps it; with the collector's
/// number service failing or silent, the page keeps the published number and the tag logs nothing.
/// </summary>
public partial class CallTrackingTests
{
    [GeneratedRegex(@"^\+3312345670[1-4]$")]
    private static partial Regex PoolNumber();

    private sealed record Shown(string Text, string Href, string Link, string? Added);

    private static async Task<Shown> ShownAsync(IPage page)
    {
        var v = await page.EvaluateAsync<string?[]>("""
            () => [
              document.getElementById('text').textContent,
              document.getElementById('tel').getAttribute('href'),
              document.getElementById('tel').textContent,
              document.getElementById('added')?.textContent ?? null,
            ]
            """);
        return new Shown(v[0]!, v[1]!, v[2]!, v[3]);
    }

    /// <summary>Opens the page (waiting for the navigation to commit only) and polls until <paramref name="done"/> holds.</summary>
    private static async Task<Shown> OpenAndWaitAsync(TagSession s, Func<Shown, bool> done, string what, bool reload = false)
    {
        if (reload)
        {
            await s.Page.ReloadAsync(new PageReloadOptions { WaitUntil = WaitUntilState.Commit });
        }
        else
        {
            await s.Page.GotoAsync(TagEnvironment.Pages.Url("/phone.html"), new PageGotoOptions { WaitUntil = WaitUntilState.Commit });
        }
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                var shown = await ShownAsync(s.Page);
                if (done(shown))
                {
                    return shown;
                }
                if (DateTime.UtcNow > deadline)
                {
                    Assert.Fail($"within 60 s the page did not show {what}; it shows {shown}");
                }
            }
            catch (PlaywrightException) when (DateTime.UtcNow < deadline)
            {
                // The document is not there yet (the navigation just committed).
            }
            await Task.Delay(100);
        }
    }

    private static string NumberIn(Shown shown) => "+33" + Regex.Replace(shown.Href, @"\D", "")[2..];

    [Test]
    public async Task The_published_number_in_text_in_a_tel_link_and_added_later_shows_the_visitors_tracking_number_and_a_reload_keeps_it()
    {
        await using var s = await TagSession.OpenAsync();
        var shown = await OpenAndWaitAsync(s, x => x.Added is not null && !x.Added.EndsWith("89", StringComparison.Ordinal) && !x.Text.Contains("67 89", StringComparison.Ordinal),
            "the tracking number everywhere");
        var number = NumberIn(shown);
        var last2 = number[^2..];
        Assert.Multiple(() =>
        {
            Assert.That(number, Does.Match(PoolNumber()));
            Assert.That(shown.Text, Is.EqualTo($"Call us on 01 23 45 67 {last2}, Monday to Friday."));
            Assert.That(shown.Href, Is.EqualTo("tel:" + number));
            Assert.That(shown.Link, Is.EqualTo($"+33 (0)1 23 45 67 {last2}"));
            Assert.That(shown.Added, Is.EqualTo($"Or dial 01.23.45.67.{last2}"));
            Assert.That(s.PageErrors, Is.Empty);
            Assert.That(s.ConsoleErrors, Is.Empty);
        });

        var again = await OpenAndWaitAsync(s, x => x.Added is not null && !x.Text.Contains("67 89", StringComparison.Ordinal), "the tracking number after a reload", reload: true);
        Assert.That(NumberIn(again), Is.EqualTo(number), "a reload keeps the number");

        // Another visitor at the same time gets another number.
        await using var other = await TagSession.OpenAsync();
        var theirs = await OpenAndWaitAsync(other, x => !x.Text.Contains("67 89", StringComparison.Ordinal), "another visitor's tracking number");
        Assert.That(NumberIn(theirs), Is.Not.EqualTo(number).And.Match(PoolNumber()));
    }

    [Test]
    public async Task With_the_number_service_failing_the_page_keeps_the_published_number_and_the_tag_logs_nothing()
    {
        await using var s = await TagSession.OpenAsync();
        var asked = 0;
        await s.Context.RouteAsync(new Regex("/numbers\\?"), route =>
        {
            Interlocked.Increment(ref asked);
            return route.AbortAsync("connectionrefused");
        });
        var shown = await OpenAndWaitAsync(s, x => x.Added is not null, "the number added by the page's script");
        await Task.Delay(2000);
        shown = await ShownAsync(s.Page);
        Assert.Multiple(() =>
        {
            Assert.That(asked, Is.EqualTo(1), "the tag asked");
            Assert.That(shown, Is.EqualTo(new Shown("Call us on 01 23 45 67 89, Monday to Friday.", "tel:+33123456789", "+33 (0)1 23 45 67 89", "Or dial 01.23.45.67.89")));
            Assert.That(s.PageErrors, Is.Empty);
            // Chromium itself reports a refused connection ("Failed to load resource"); nothing else may appear.
            Assert.That(s.ConsoleErrors.Where(e => !e.StartsWith("Failed to load resource", StringComparison.Ordinal)), Is.Empty);
        });
    }

    [Test]
    public async Task With_the_number_service_silent_past_one_and_a_half_seconds_the_page_keeps_the_published_number_and_the_console_stays_clean()
    {
        await using var s = await TagSession.OpenAsync();
        var release = new TaskCompletionSource();
        var asked = 0;
        await s.Context.RouteAsync(new Regex("/numbers\\?"), async route =>
        {
            Interlocked.Increment(ref asked);
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { });
            try
            {
                await route.ContinueAsync();
            }
            catch (PlaywrightException)
            {
                // The tag gave up on the request: nothing to continue.
            }
        });
        await OpenAndWaitAsync(s, x => x.Added is not null, "the number added by the page's script");
        await Task.Delay(1000);
        release.SetResult(); // the answer comes, too late
        await Task.Delay(1500);
        var shown = await ShownAsync(s.Page);
        Assert.Multiple(() =>
        {
            Assert.That(asked, Is.EqualTo(1), "the tag asked");
            Assert.That(shown, Is.EqualTo(new Shown("Call us on 01 23 45 67 89, Monday to Friday.", "tel:+33123456789", "+33 (0)1 23 45 67 89", "Or dial 01.23.45.67.89")));
            Assert.That(s.PageErrors, Is.Empty);
            Assert.That(s.ConsoleErrors, Is.Empty);
        });
    }
}
