import { getJson } from '../api.js';
import { apiParams, STAGES, withState } from '../state.js';
import { h, num, cap, time, kpi, tableSection, stageBadge } from '../dom.js';

export const title = 'Realtime';
const REFRESH_MS = 10_000;

export async function render(ctx) {
  const { state, main, signal } = ctx;
  const content = h('div', { id: 'realtime' });
  const status = h('p.sub', { role: 'status' });
  main.append(h('h1', {}, 'Realtime'), status, content);
  ctx.rangeShown(null, null);
  await refresh(ctx, content, status);
  const timer = setInterval(() => refresh(ctx, content, status).catch((e) => {
    if (e.name !== 'AbortError') status.textContent = 'Refresh failed: ' + e.message;
  }), REFRESH_MS);
  signal.addEventListener('abort', () => clearInterval(timer));
}

async function refresh({ state, signal, href }, content, status) {
  const r = await getJson('realtime', apiParams(withState(state, { from: null, to: null, days: null }), { limit: 100 }), signal);
  content.replaceChildren(
    h('section.kpis', { 'aria-label': 'Last 5 minutes' },
      kpi('Visitors now', num(r.visitors), 'realtime-visitors', 'last 5 minutes'),
      STAGES.map((s) => kpi(cap(s), num(r.by_stage[s] ?? 0), 'realtime-' + s))),
    tableSection({
      title: 'Recent visitors', id: 'table-realtime', site: state.site,
      exportParams: apiParams(withState(state, { from: null, to: null, days: null }), { view: 'realtime' }),
      columns: [{ label: 'Visitor' }, { label: 'Stage' }, { label: 'Last seen' }, { label: 'Page' }, { label: 'Channel' }, { label: 'Touches', num: true }],
      rows: r.recent.map((v) => [
        h('a.visitor', { href: href(withState(state, { view: 'journeys', visitor: v.visitor_id, search: '' })) }, v.visitor_id),
        stageBadge(v.stage), h('span.nowrap', {}, time(v.last_seen)), v.page ? h('code', {}, v.page) : '–', v.channel || '–', num(v.touches)]),
      empty: 'Nobody in the last 5 minutes.',
    }));
  status.textContent = `Since ${time(r.since)} · refreshed every ${REFRESH_MS / 1000} s`;
}
