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
        tr.appendChild(cell((e.derived_ts || '').slice(11, 19)));
        tr.appendChild(cell(e.type === 'event' ? e.name : e.type));
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
  refresh();
  setInterval(refresh, 1500);

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
