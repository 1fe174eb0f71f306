// The dashboard: one page, six views, all state in the query string (shareable). Each view module renders
// into <main> from the JSON API; navigation uses history.pushState and re-renders, links stay real links.

import { readState, stateQuery, withState, effectiveRange, FILTERS } from './state.js';
import { takeKeyFromUrl, setKey, ApiError } from './api.js';
import { h } from './dom.js';
import { disposeCharts } from './charts.js';
import * as overview from './views/overview.js';
import * as sources from './views/sources.js';
import * as funnel from './views/funnel.js';
import * as attribution from './views/attribution.js';
import * as journeys from './views/journeys.js';
import * as realtime from './views/realtime.js';
import { arrowKeys } from './views/sources.js';

const VIEWS = { overview, sources, funnel, attribution, journeys, realtime };
const base = document.body.dataset.base || '/dashboard';
const main = document.getElementById('main');
const controls = document.getElementById('controls');
const keyForm = document.getElementById('keyform');
const viewTabs = document.querySelector('nav.views');
let current = null; // AbortController of the view on screen

const href = (s) => base + stateQuery(s);

function go(s, { replace = false } = {}) {
  const url = href(s);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
}

async function render() {
  const state = readState(location.search);
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const focused = document.activeElement?.id;
  disposeCharts();

  document.title = `${VIEWS[state.view].title} · ${state.site} · TouchpointTracker`;
  for (const tab of viewTabs.querySelectorAll('[role=tab]')) {
    const selected = tab.dataset.view === state.view;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
  }
  main.setAttribute('aria-labelledby', 'tab-' + state.view);
  fillControls(state);
  renderFilters(state);
  keyForm.hidden = true;

  const fresh = h('div.view', { dataset: { view: state.view } });
  const loading = h('p.loading', { role: 'status' }, 'Loading…');
  main.replaceChildren(loading, fresh); // in the document before it fills, so charts measure their real width
  main.setAttribute('aria-busy', 'true');
  try {
    await VIEWS[state.view].render({
      state, main: fresh, signal: controller.signal, go, href,
      rangeShown: (from, to) => showRange(state, from, to),
    });
    if (controller.signal.aborted) return;
    loading.remove();
  } catch (e) {
    if (controller.signal.aborted || e.name === 'AbortError') return;
    loading.remove();
    fresh.append(problem(state, e));
  } finally {
    if (current === controller) main.setAttribute('aria-busy', 'false');
  }
  if (focused) document.getElementById(focused)?.focus();
  document.documentElement.dataset.ready = state.view; // for tests and for anyone waiting on the page
}

function problem(state, e) {
  if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
    keyForm.hidden = false;
    document.getElementById('keyform-message').textContent = e.status === 401
      ? `Site “${state.site}” needs a read key (Analytics:ApiKeys). ${e.message}`
      : `This key does not give access to site “${state.site}”.`;
    document.getElementById('key').focus();
  }
  return h('p.error', { role: 'alert' }, e instanceof ApiError ? `The API answered ${e.status}: ${e.message}` : `Could not load the view: ${e.message}`);
}

function fillControls(state) {
  controls.site.value = state.site;
  const range = effectiveRange(state);
  controls.from.value = range.from ?? '';
  controls.to.value = range.to ?? '';
  controls.preset.value = state.from || state.to ? 'custom' : String(state.days ?? 30);
}

/** The range the API answered (its default when the URL names none) goes into the date inputs. */
function showRange(state, from, to) {
  if (!state.from && !state.to && from && to) {
    controls.from.value = from;
    controls.to.value = to;
  }
}

function renderFilters(state) {
  const box = document.getElementById('filters');
  const active = FILTERS.filter((f) => state.filters[f]);
  box.replaceChildren(...(active.length === 0 ? [] : [
    h('span.filters-label', {}, 'Filters:'),
    ...active.map((f) => h('a.chip.removable', {
      href: href(withState(state, { filters: { [f]: undefined } })),
      'aria-label': `Remove filter ${f} = ${state.filters[f]}`,
      dataset: { filter: f },
    }, `${f.replace('_', ' ')}: ${state.filters[f]}`, h('span', { 'aria-hidden': 'true' }, ' ×'))),
    active.length > 1 ? h('a.clear', { href: href({ ...state, filters: {} }) }, 'Clear all') : null,
  ]));
}

// Controls: site and range.
controls.preset.addEventListener('change', () => {
  if (controls.preset.value !== 'custom') {
    const s = readState(location.search);
    go({ ...s, from: null, to: null, days: Number(controls.preset.value) === 30 ? null : Number(controls.preset.value) });
  }
});
controls.addEventListener('submit', (e) => {
  e.preventDefault();
  const s = readState(location.search);
  const site = controls.site.value.trim() || 'demo';
  const custom = controls.preset.value === 'custom' || controls.from.value !== effectiveRange(s).from || controls.to.value !== effectiveRange(s).to;
  go({ ...s, site, from: custom ? controls.from.value || null : null, to: custom ? controls.to.value || null : null,
    days: custom ? null : s.days, visitor: site === s.site ? s.visitor : '' });
});
for (const input of [controls.from, controls.to]) input.addEventListener('change', () => { controls.preset.value = 'custom'; });

keyForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const s = readState(location.search);
  setKey(s.site, keyForm.key.value);
  keyForm.key.value = '';
  render();
});

// View tabs: buttons (role=tab, aria-selected), arrows move between them.
viewTabs.addEventListener('click', (e) => {
  const tab = e.target.closest('[role=tab]');
  if (tab) go({ ...readState(location.search), view: tab.dataset.view });
});
viewTabs.addEventListener('keydown', (e) => arrowKeys(e, viewTabs));

// Links inside the dashboard navigate without a reload (a modified click still opens a new tab).
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin === location.origin && (url.pathname === base || url.pathname === base + '/')) {
    e.preventDefault();
    history.pushState(null, '', url.pathname + url.search);
    render();
  }
});
window.addEventListener('popstate', render);

takeKeyFromUrl(readState(location.search).site);
render();
