// Demo page helper (not part of the tag): shows what the collector staged, and wires the demo's own calls.
(function () {
  'use strict';
  var rows = document.getElementById('live-rows');
  function cell(text, cls) { var td = document.createElement('td'); td.textContent = text == null ? '' : String(text); if (cls) td.className = cls; return td; }
  function refresh() {
    fetch('/api/events?site=demo&limit=15').then(function (r) { return r.ok ? r.json() : []; }).then(function (events) {
      var body = document.createDocumentFragment();
      events.slice().reverse().forEach(function (e) {
        var tr = document.createElement('tr');
        var j = e.journey || {};
        var c = e.campaign || {};
        // The visitor's local time (derived_ts is UTC on the collector's clock).
        tr.appendChild(cell(e.derived_ts ? new Date(e.derived_ts).toLocaleTimeString() : ''));
        tr.appendChild(cell((e.visitor_id || '').slice(0, 8), 'visitor')).title = e.visitor_id || '';
        tr.appendChild(cell(e.type === 'event' ? e.name : e.type));
        tr.appendChild(cell(e.page && e.page.host));
        tr.appendChild(cell(e.page && e.page.path));
        tr.appendChild(cell(e.channel));
        tr.appendChild(cell([c.source, c.medium, c.name].filter(Boolean).join(' / ')));
        tr.appendChild(cell(j.stage, 'stage-' + j.stage));
        tr.appendChild(cell((j.reasons || []).join(', ')));
        body.appendChild(tr);
      });
      rows.replaceChildren(body);
    }).catch(function () { /* the panel is a convenience; the site works without it */ });
  }
  // Events the collector refused for the demo site, by reason (its counters, /metrics): without this an
  // empty panel would not say why (a bot user agent, GPC with stored identifiers, an origin not allowed...).
  var refused = document.getElementById('live-refused');
  var WHY = {
    bot: 'the browser\'s user agent is a bot\'s (bots are dropped)',
    gpc: 'the browser sends Global Privacy Control and the beacon carried stored identifiers',
    origin_not_allowed: 'the page\'s origin may not send for this site key',
    rate_limited: 'too many requests from this address'
  };
  function refusals() {
    fetch('/metrics').then(function (r) { return r.ok ? r.text() : ''; }).then(function (text) {
      var counts = {};
      text.split('\n').forEach(function (line) {
        var m = /^tt_rejected_events_total\{([^}]*)\}\s+([\d.e+]+)/.exec(line);
        if (!m || !/(^|,)site="demo"/.test(m[1])) return;
        var reason = (/reason="([^"]*)"/.exec(m[1]) || [])[1];
        if (reason && +m[2] > 0) counts[reason] = (counts[reason] || 0) + Number(m[2]);
      });
      var parts = Object.keys(counts).map(function (k) { return counts[k] + ' × ' + k + (WHY[k] ? ' (' + WHY[k] + ')' : ''); });
      refused.hidden = parts.length === 0;
      refused.textContent = parts.length ? 'Events of this demo the collector refused since it started: ' + parts.join('; ') + '.' : '';
    }).catch(function () { /* no metrics: nothing to say */ });
  }
  refresh();
  refusals();
  setInterval(refresh, 1500);
  setInterval(refusals, 3000);

  var form = document.getElementById('demo-request');
  if (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      // A site owner records the lead explicitly; the tag records the form submission by itself (never the field values).
      window.tt('lead', { form: 'demo-request' });
      form.hidden = true;
      document.getElementById('thanks').hidden = false;
    });
  }
  var cart = document.getElementById('add-to-cart');
  if (cart) {
    cart.addEventListener('click', function () { window.tt('track', 'add_to_cart', { plan: 'pro', value: 49, currency: 'EUR' }); });
  }
})();
