import { getJson } from '../api.js';
import { apiParams, STAGES, SOURCE_TABS, withState } from '../state.js';
import { h, num, pct, cap, tableSection, stageBadge } from '../dom.js';

export const title = 'Sources';

const LABELS = { channels: 'Channels', sources: 'Sources', campaigns: 'Campaigns', keywords: 'Keywords' };
const COLUMN = { channels: 'Channel', sources: 'Source', campaigns: 'Campaign', keywords: 'Keyword' };

export async function render({ state, main, signal, go, href, rangeShown }) {
  const by = SOURCE_TABS[state.tab];
  const params = apiParams(state, { by });
  const b = await getJson('breakdown', params, signal);
  rangeShown(b.from, b.to);

  const tabs = h('div.subtabs', { role: 'tablist', 'aria-label': 'Break down by' },
    Object.keys(SOURCE_TABS).map((t) => h('button', {
      type: 'button', role: 'tab', id: 'subtab-' + t, 'aria-selected': String(t === state.tab), 'aria-controls': 'table-breakdown',
      tabindex: t === state.tab ? '0' : '-1', dataset: { tab: t },
      onclick: () => go(withState(state, { tab: t })),
    }, LABELS[t])));
  tabs.addEventListener('keydown', (e) => arrowKeys(e, tabs));

  const rows = b.rows.map((r) => [
    r.value === '' ? h('span.none', {}, '(none)') : h('a.filter', { href: href(withState(state, { filters: { [by]: r.value } })), title: `Only ${by} = ${r.value}` }, r.value),
    num(r.visitors), num(r.sessions), num(r.touchpoints),
    ...STAGES.flatMap((s, i) => [num(r.reached[s]), i === 0 ? pct(r.visitors ? r.reached[s] / r.visitors : null) : pct(r.conversion[s])]),
  ]);
  main.append(
    h('h1', {}, 'Sources'),
    h('p.sub', {}, `${b.from} to ${b.to} · visitors by the ${by === 'term' ? 'search keyword' : by} of their sessions`),
    tabs,
    tableSection({
      title: LABELS[state.tab], id: 'table-breakdown', site: state.site,
      exportParams: apiParams(state, { view: 'breakdown', by, limit: 1000 }),
      columns: [{ label: COLUMN[state.tab] }, { label: 'Visitors', num: true }, { label: 'Sessions', num: true }, { label: 'Touchpoints', num: true },
        ...STAGES.flatMap((s, i) => [{ label: cap(s), num: true }, { label: i === 0 ? '% of visitors' : `% of ${STAGES[i - 1]}`, num: true }])],
      rows,
      note: h('span', {}, 'Per stage: visitors who reached it, and the rate from the stage before. Select a value to filter every view by it. ',
        STAGES.map((s) => [stageBadge(s), ' '])),
    }));
  document.getElementById('subtab-' + state.tab)?.setAttribute('data-current', '');
}

/** Left/right arrows move between tabs (the WAI-ARIA tabs pattern); Enter/Space activate the focused one. */
export function arrowKeys(e, list) {
  if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft' && e.key !== 'Home' && e.key !== 'End') return;
  const tabs = [...list.querySelectorAll('[role=tab]')];
  const i = tabs.indexOf(document.activeElement);
  if (i < 0) return;
  e.preventDefault();
  const next = e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1 : (i + (e.key === 'ArrowRight' ? 1 : -1) + tabs.length) % tabs.length;
  tabs[next].focus();
}
