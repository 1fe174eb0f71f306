import { getJson } from '../api.js';
import { apiParams, STAGES } from '../state.js';
import { h, num, cap, kpi, tableSection } from '../dom.js';
import { dayChart, STAGE_COLORS } from '../charts.js';

export const title = 'Overview';

/** A sum in the reporting currency, two decimals ("12,000.00 EUR"). */
const money = (v, currency) =>
  new Intl.NumberFormat('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v || 0) + (currency ? ' ' + currency : '');

export async function render({ state, main, signal, rangeShown }) {
  const params = apiParams(state);
  const o = await getJson('overview', params, signal);
  rangeShown(o.from, o.to);
  const days = o.days.map((d) => d.day);
  const exportParams = apiParams(state, { view: 'overview' });

  const totals = h('section.kpis', { 'aria-label': 'Totals' },
    kpi('Visitors', num(o.visitors), 'visitors'),
    kpi('Sessions', num(o.sessions), 'sessions'),
    kpi('Touchpoints', num(o.touchpoints), 'touchpoints'),
    kpi('Conversions', num(o.conversions), 'conversions'),
    kpi('Revenue', money(o.revenue, o.reporting_currency), 'revenue', 'net of refunds, fixed rates'));
  const stages = h('section.kpis.stages', { 'aria-label': 'Visitors per stage reached' },
    STAGES.map((s) => kpi(cap(s), num(o.reached[s]), 'reached-' + s, `${num(o.entered[s])} entered`)));

  const trafficChart = h('div.chart', { 'aria-hidden': 'true', id: 'chart-traffic' });
  const stageChart = h('div.chart', { 'aria-hidden': 'true', id: 'chart-stages' });
  main.append(
    h('h1', {}, 'Overview'),
    h('p.sub', {}, `${o.from} to ${o.to} (${o.time_zone})`),
    totals,
    h('section.card', { 'aria-labelledby': 'traffic-title' },
      h('div.card-head', {}, h('h2', { id: 'traffic-title' }, 'Visitors, sessions and touchpoints per day')), trafficChart),
    stages,
    h('section.card', { 'aria-labelledby': 'stages-title' },
      h('div.card-head', {}, h('h2', { id: 'stages-title' }, 'Visitors per stage reached, per day')), stageChart),
    tableSection({
      title: 'Visitors per stage', id: 'table-stages', exportParams, site: state.site,
      columns: [{ label: 'Stage' }, { label: 'Reached', num: true }, { label: 'Entered in range', num: true }],
      rows: STAGES.map((s) => [cap(s), num(o.reached[s]), num(o.entered[s])]),
      note: 'Reached: visitors whose journey was at this stage or further in the range. Entered: visitors who moved into it in the range.',
    }),
    tableSection({
      title: 'Per day', id: 'table-days', exportParams, site: state.site,
      note: 'Days without a touchpoint are left out here (the chart and the CSV have every day).',
      empty: 'No touchpoint in this range.',
      columns: [{ label: 'Day' }, { label: 'Visitors', num: true }, { label: 'Sessions', num: true }, { label: 'Touchpoints', num: true },
        ...STAGES.map((s) => ({ label: cap(s), num: true }))],
      rows: o.days.filter((d) => d.touchpoints > 0).reverse().map((d) => [h('span.nowrap', {}, d.day), num(d.visitors), num(d.sessions), num(d.touchpoints), ...STAGES.map((s) => num(d.reached[s]))]),
    }));

  dayChart(trafficChart, days, [
    { label: 'Visitors', color: '#2456c7', values: o.days.map((d) => d.visitors) },
    { label: 'Sessions', color: '#0f9d8a', values: o.days.map((d) => d.sessions) },
    { label: 'Touchpoints', color: '#999', values: o.days.map((d) => d.touchpoints) },
  ]);
  dayChart(stageChart, days, STAGES.map((s) => ({ label: cap(s), color: STAGE_COLORS[s], values: o.days.map((d) => d.reached[s]) })));
}
