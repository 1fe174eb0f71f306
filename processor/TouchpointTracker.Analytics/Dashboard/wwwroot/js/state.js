// The dashboard's state lives in the URL's query string, so any view can be shared or bookmarked:
// view, site, range (days= or from=/to=), filters (the API's filter names) and per-view details.

export const STAGES = ['awareness', 'consideration', 'decision', 'retention', 'advocacy'];
export const FILTERS = ['channel', 'source', 'medium', 'campaign', 'term', 'landing_page', 'device', 'country', 'stage'];
export const VIEWS = ['overview', 'sources', 'funnel', 'attribution', 'journeys', 'realtime'];
export const ATTRIBUTION_BY = ['channel', 'source_medium', 'campaign', 'term', 'content', 'landing_page', 'click_platform'];
export const MODELS = ['first_touch', 'last_touch', 'last_non_direct', 'linear', 'position_based', 'time_decay', 'markov', 'shapley'];
export const SOURCE_TABS = { channels: 'channel', sources: 'source', campaigns: 'campaign', keywords: 'term' };

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Reads the state from a URL's search part. */
export function readState(search) {
  const q = new URLSearchParams(search);
  const view = VIEWS.includes(q.get('view')) ? q.get('view') : 'overview';
  const filters = {};
  for (const f of FILTERS) {
    const v = q.get(f);
    if (v) filters[f] = v;
  }
  const tab = Object.hasOwn(SOURCE_TABS, q.get('tab')) ? q.get('tab') : 'channels';
  const days = /^\d{1,3}$/.test(q.get('days') ?? '') ? Number(q.get('days')) : null;
  return {
    view,
    site: (q.get('site') || 'demo').slice(0, 100),
    from: DATE.test(q.get('from') ?? '') ? q.get('from') : null,
    to: DATE.test(q.get('to') ?? '') ? q.get('to') : null,
    days,
    filters,
    tab,
    search: q.get('search') || '',
    visitor: q.get('visitor') || '',
    by: ATTRIBUTION_BY.includes(q.get('by')) ? q.get('by') : 'channel',
    model: MODELS.includes(q.get('model')) ? q.get('model') : 'markov',
    measure: q.get('measure') === 'revenue' ? 'revenue' : 'conversions',
    lookback: /^\d{1,3}$/.test(q.get('lookback_days') ?? '') ? Number(q.get('lookback_days')) : null,
    conversionType: (q.get('conversion_type') || '').slice(0, 100),
  };
}

/** The dashboard URL (query string only) of a state; never carries the key. */
export function stateQuery(s) {
  const q = new URLSearchParams();
  if (s.view !== 'overview') q.set('view', s.view);
  q.set('site', s.site);
  if (s.from) q.set('from', s.from);
  if (s.to) q.set('to', s.to);
  if (!s.from && !s.to && s.days) q.set('days', String(s.days));
  for (const f of FILTERS) if (s.filters[f]) q.set(f, s.filters[f]);
  if (s.view === 'sources' && s.tab !== 'channels') q.set('tab', s.tab);
  if (s.view === 'attribution') {
    if (s.by !== 'channel') q.set('by', s.by);
    if (s.model !== 'markov') q.set('model', s.model);
    if (s.measure !== 'conversions') q.set('measure', s.measure);
    if (s.lookback) q.set('lookback_days', String(s.lookback));
    if (s.conversionType) q.set('conversion_type', s.conversionType);
  }
  if (s.view === 'journeys') {
    if (s.search) q.set('search', s.search);
    if (s.visitor) q.set('visitor', s.visitor);
  }
  return '?' + q.toString();
}

/** A copy of the state with some fields changed. */
export function withState(s, changes) {
  return { ...s, ...changes, filters: { ...s.filters, ...(changes.filters ?? {}) } };
}

/** The API's query parameters for a state: site, range, filters (the key travels in a header, never here). */
export function apiParams(s, extra = {}) {
  const q = new URLSearchParams({ site: s.site });
  const range = effectiveRange(s);
  if (range.from) q.set('from', range.from);
  if (range.to) q.set('to', range.to);
  for (const f of FILTERS) if (s.filters[f]) q.set(f, s.filters[f]);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  return q;
}

/** from/to as given, or computed from days= (ending today, browser's calendar), or none (the API's default). */
export function effectiveRange(s) {
  if (s.from || s.to) return { from: s.from, to: s.to };
  if (s.days) {
    const today = new Date();
    const start = new Date(today.getFullYear(), today.getMonth(), today.getDate() - (s.days - 1));
    return { from: localDate(start), to: localDate(today) };
  }
  return { from: null, to: null };
}

function localDate(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
