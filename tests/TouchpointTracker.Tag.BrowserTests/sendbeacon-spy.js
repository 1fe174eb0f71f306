// Added to every page of a test's browser context (Playwright init script, before the page's own scripts).
// Chromium does not report to Playwright the beacons a page sends while it unloads (navigator.sendBeacon
// on pagehide), so this records every sendBeacon call - URL, body, result - in the site's localStorage,
// where the test reads it from another page of the same origin. The beacon itself is sent unchanged.
(() => {
  const send = navigator.sendBeacon
  navigator.sendBeacon = function (url, data) {
    const queued = send.call(navigator, url, data)
    try {
      const calls = JSON.parse(localStorage.getItem('__sendBeacon_spy') || '[]')
      calls.push({ url: String(url), body: typeof data == 'string' ? data : null, queued, page: location.href })
      localStorage.setItem('__sendBeacon_spy', JSON.stringify(calls))
    } catch (e) {}
    return queued
  }
})()
