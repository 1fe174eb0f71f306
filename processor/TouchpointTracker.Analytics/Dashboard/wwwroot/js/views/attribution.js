import { getJson } from '../api.js';
import { withState, effectiveRange, ATTRIBUTION_BY, MODELS } from '../state.js';
import { h, kpi, tableSection, bar } from '../dom.js';
import { arrowKeys } from './sources.js';

export const title = 'Attribution';

const BY_LABELS = {
  channel: 'Channels', source_medium: 'Source / medium', campaign: 'Campaigns', term: 'Keywords',
  content: 'Content', landing_page: 'Landing pages', click_platform: 'Click platforms',
};
const COLUMN = {
  channel: 'Channel', source_medium: 'Source / medium', campaign: 'Campaign', term: 'Keyword',
  content: 'Content', landing_page: 'Landing page', click_platform: 'Click platform',
};
export const MODEL_LABELS = {
  first_touch: 'First touch', last_touch: 'Last touch', last_non_direct: 'Last non-direct', linear: 'Linear',
  position_based: 'Position-based', time_decay: 'Time decay', markov: 'Markov', shapley: 'Shapley',
};
const LOOKBACKS = [7, 14, 30, 60, 90];

const decimals = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const fmt = (n) => (n === null || n === undefined ? '–' : decimals.format(n));

/** The API's parameters: site, range, dimension, lookback, conversion type (the views' filters do not apply here). */
function params(state, extra = {}) {
  const q = new URLSearchParams({ site: state.site, by: state.by });
  const range = effectiveRange(state);
  if (range.from) q.set('from', range.from);
  if (range.to) q.set('to', range.to);
  if (state.lookback) q.set('lookback_days', String(state.lookback));
  if (state.conversionType) q.set('conversion_type', state.conversionType);
  for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
  return q;
}

export async function render({ state, main, signal, go, rangeShown }) {
  const a = await getJson('attribution', params(state, { models: MODELS.join(',') }), signal);
  rangeShown(a.from, a.to);
  const measure = state.measure;
  const model = state.model;
  const total = measure === 'revenue' ? a.revenue : a.conversions;

  const tabs = h('div.subtabs', { role: 'tablist', 'aria-label': 'Attribute to' },
    ATTRIBUTION_BY.map((b) => h('button', {
      type: 'button', role: 'tab', id: 'attr-by-' + b, 'aria-selected': String(b === state.by), 'aria-controls': 'table-attribution',
      tabindex: b === state.by ? '0' : '-1', onclick: () => go(withState(state, { by: b })),
    }, BY_LABELS[b])));
  tabs.addEventListener('keydown', (e) => arrowKeys(e, tabs));

  const select = (id, label, value, options, onchange) => h('label', {}, label,
    h('select', { id, onchange: (e) => onchange(e.target.value) },
      options.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value) }, text))));
  const controls = h('div.attr-controls', {},
    select('attr-model', 'Model', model, MODELS.map((m) => [m, MODEL_LABELS[m]]), (v) => go(withState(state, { model: v }))),
    select('attr-measure', 'Credit', measure, [['conversions', 'Conversions'], ['revenue', 'Revenue']], (v) => go(withState(state, { measure: v }))),
    select('attr-lookback', 'Lookback', state.lookback ?? 30, LOOKBACKS.map((d) => [d, `${d} days`]),
      (v) => go(withState(state, { lookback: Number(v) === 30 ? null : Number(v) }))));

  const value = (r, m) => r[measure][m];
  const rows = [...a.rows]
    .sort((x, y) => value(y, model) - value(x, model) || (x.key < y.key ? -1 : 1))
    .map((r) => {
      const diff = value(r, 'last_touch') - value(r, 'first_touch');
      const shown = Math.abs(diff) < 0.005 ? '0.00' : (diff > 0 ? '+' : '−') + fmt(Math.abs(diff));
      return [
        r.key,
        ...MODELS.map((m) => fmt(value(r, m))),
        h('span' + (Math.abs(diff) < 0.005 ? '' : diff > 0 ? '.diff-up' : '.diff-down'), { dataset: { diff: diff.toFixed(6) } }, shown),
        h('span', {}, bar(total ? value(r, model) / total : 0), ' ', total ? ((value(r, model) / total) * 100).toFixed(1) + '%' : '–'),
      ];
    });

  const paths = a.top_paths.map((p) => [
    h('span.path', {}, p.path.flatMap((k, i) => [i ? h('span.sep', { 'aria-hidden': 'true' }, '›') : null, h('span.chip', {}, k)])),
    fmt(p.conversions), fmt(p.revenue),
  ]);

  main.append(
    h('h1', {}, 'Attribution'),
    h('p.sub', {}, `${a.from} to ${a.to} · conversions and revenue credited to each ${COLUMN[state.by].toLowerCase()} under every model; `
      + `paths look back ${a.lookback_days} days`),
    tabs,
    controls,
    h('div.kpis', {},
      kpi('Conversions', fmt(a.conversions), 'conversions'),
      kpi('Revenue', fmt(a.revenue), 'revenue'),
      kpi('Average path length', fmt(a.average_path_length), 'path-length', 'touches per conversion'),
      kpi('Average time to convert', fmt(a.average_days_to_convert), 'days-to-convert', 'days from the first touch'),
      kpi('Non-converting paths', String(a.non_converting_paths), 'non-converting')),
    tableSection({
      title: `${BY_LABELS[state.by]} × models (${measure})`, id: 'table-attribution', site: state.site,
      exportParams: params(state, { view: 'attribution', models: MODELS.join(',') }),
      columns: [{ label: COLUMN[state.by] },
        ...MODELS.map((m) => ({ label: MODEL_LABELS[m], num: true, cls: m === model ? 'current' : '' })),
        { label: 'Last − first', num: true }, { label: `Share (${MODEL_LABELS[model]})` }],
      rows,
      empty: 'No conversion in this range.',
      note: 'Each column is one model over the same paths; the highlighted one orders the rows. “Last − first”: '
        + 'what last-touch credits more (green) or less (red) than first-touch — the channels that open journeys show red.',
    }),
    tableSection({
      title: 'Top converting paths', id: 'table-paths',
      columns: [{ label: 'Path' }, { label: 'Conversions', num: true }, { label: 'Revenue', num: true }],
      rows: paths,
      empty: 'No conversion in this range.',
      note: 'Touches in time order; repeats of the same value in a row are merged.',
    }));
}
