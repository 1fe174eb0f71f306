import { getJson } from '../api.js';
import { apiParams, STAGES, withState } from '../state.js';
import { h, num, pct, cap, duration, tableSection, bar } from '../dom.js';

export const title = 'Funnel';

export async function render({ state, main, signal, href, rangeShown }) {
  const [f, mix] = await Promise.all([
    getJson('funnel', apiParams(state), signal),
    getJson('funnel', apiParams(state, { by: 'channel', limit: 20 }), signal),
  ]);
  rangeShown(f.from, f.to);
  const top = Math.max(1, ...f.stages.map((s) => s.visitors));

  const funnelRows = f.stages.map((s) => [
    h('span.stage-name', {}, cap(s.stage)),
    h('span.barcell', {}, bar(s.visitors / top, 'stage-' + s.stage), h('span', {}, num(s.visitors))),
    pct(s.conversion_from_previous), num(s.drop_off), pct(s.drop_off_rate),
    duration(s.median_seconds_from_previous), duration(s.p75_seconds_from_previous),
  ]);

  const groups = mix.groups ?? [];
  const mixRows = groups.map((g) => {
    const first = g.stages[0]?.visitors || 0;
    const stacked = h('span.stack', { 'aria-hidden': 'true' });
    // visitors who stopped at each stage: entered minus entered the next one
    g.stages.forEach((s, i) => {
      const next = g.stages[i + 1]?.visitors ?? 0;
      const part = h('span.stack-part.stage-' + s.stage);
      part.style.width = `${first ? (Math.max(0, s.visitors - next) / first) * 100 : 0}%`;
      stacked.append(part);
    });
    return [
      h('a.filter', { href: href(withState(state, { filters: { channel: g.value } })), title: `Only channel = ${g.value}` }, g.value || '(none)'),
      ...g.stages.map((s) => num(s.visitors)),
      pct(first ? (g.stages.find((s) => s.stage === "decision")?.visitors ?? 0) / first : null),
      stacked,
    ];
  });

  main.append(
    h('h1', {}, 'Stage funnel'),
    h('p.sub', {}, `${f.from} to ${f.to} · visitors entering each stage in order`),
    tableSection({
      title: 'Funnel', id: 'table-funnel', site: state.site, exportParams: apiParams(state, { view: 'funnel' }),
      columns: [{ label: 'Stage' }, { label: 'Visitors', num: true }, { label: 'From previous', num: true }, { label: 'Drop-off', num: true },
        { label: 'Drop-off rate', num: true }, { label: 'Median time from previous', num: true }, { label: 'p75 time', num: true }],
      rows: funnelRows,
    }),
    tableSection({
      title: 'Stage mix per channel', id: 'table-mix', site: state.site,
      exportParams: apiParams(state, { view: 'funnel', by: 'channel', limit: 100 }),
      columns: [{ label: 'Channel' }, ...STAGES.map((s) => ({ label: cap(s), num: true })), { label: 'Awareness → decision', num: true }, { label: 'Where they stopped' }],
      rows: mixRows,
      note: h('span', {}, 'Visitors of each channel entering each stage; the bar shows the stage they stopped at. ',
        STAGES.map((s) => [h('span.swatch.stage-' + s, { 'aria-hidden': 'true' }), cap(s), ' '])),
    }));
}
