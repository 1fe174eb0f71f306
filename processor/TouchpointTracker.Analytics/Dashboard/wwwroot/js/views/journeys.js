import { getJson, ApiError } from '../api.js';
import { apiParams, withState } from '../state.js';
import { h, num, time, tableSection, stageBadge, exportLink } from '../dom.js';

export const title = 'Journeys';

export async function render({ state, main, signal, go, href, rangeShown }) {
  const input = h('input', { id: 'journey-search', name: 'search', type: 'search', value: state.search, required: true, maxlength: 200,
    placeholder: 'visitor id or its start', autocomplete: 'off', spellcheck: 'false' });
  const form = h('form.search', { role: 'search', 'aria-label': 'Find a visitor', onsubmit: (e) => {
    e.preventDefault();
    const search = input.value.trim();
    if (search) go(withState(state, { search, visitor: '' }));
  } },
  h('label', { for: 'journey-search' }, 'Visitor'), input, h('button', { type: 'submit' }, 'Search'));
  main.append(h('h1', {}, 'Journey explorer'), h('p.sub', {}, 'Find a visitor by the start of their id, then read their touches session by session (over the last 400 days unless the URL names a range).'), form);

  // Journeys look back over the API's widest range unless the URL names one.
  const range = state.from || state.to || state.days ? state : withState(state, { from: null, to: null, days: null });
  const [hits, journey] = await Promise.all([
    state.search ? getJson('journeys', apiParams(range, { search: state.search, limit: 50 }), signal) : null,
    state.visitor ? loadJourney(range, state.visitor, signal) : null,
  ]);
  rangeShown(null, null);

  if (hits) {
    main.append(tableSection({
      title: `Visitors starting with “${state.search}”`, id: 'table-visitors', site: state.site,
      exportParams: apiParams(range, { view: 'journeys', search: state.search, limit: 1000 }),
      columns: [{ label: 'Visitor' }, { label: 'Stage' }, { label: 'First seen' }, { label: 'Last seen' }, { label: 'Sessions', num: true }, { label: 'Touchpoints', num: true }],
      rows: hits.visitors.map((v) => [
        h('a.visitor', { href: href(withState(state, { visitor: v.visitor_id })), dataset: { visitor: v.visitor_id } }, v.visitor_id),
        stageBadge(v.stage), h('span.nowrap', {}, time(v.first_seen)), h('span.nowrap', {}, time(v.last_seen)), num(v.sessions), num(v.touchpoints)]),
      empty: 'No visitor id starts with that.',
    }));
  }
  if (state.visitor) {
    main.append(journey ? timeline(journey, range, state, href) : h('p.notice', { role: 'status' }, `No visitor “${state.visitor}” on site ${state.site}.`));
  }
}

async function loadJourney(state, id, signal) {
  try {
    return await getJson('journeys/' + encodeURIComponent(id), apiParams(state), signal);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

function timeline(j, range, state, href) {
  const head = h('div.card-head', {},
    h('h2', { id: 'journey-title' }, 'Visitor ', h('code', {}, j.visitor_id)),
    exportLink(apiParams(range, { view: 'journey', id: j.visitor_id }), state.site));
  const fact = (label, name, value) => h('div', {}, h('dt', {}, label), h('dd', { dataset: { fact: name } }, value));
  const facts = h('dl.facts', {},
    fact('Current stage', 'stage', stageBadge(j.current_stage)),
    fact('First seen', 'first-seen', time(j.first_seen)),
    fact('Sessions', 'sessions', num(j.sessions.length)),
    fact('Touches', 'touches', num(j.touches)),
    j.person_id ? fact('Person', 'person', h('span', {}, h('code', {}, j.person_id), ' · visitor ids: ',
      (j.person_visitors || []).flatMap((v, i) => [i ? ', ' : null, v === j.visitor_id ? h('code', {}, v)
        : h('a.visitor', { href: href(withState(state, { visitor: v })), dataset: { visitor: v } }, v)]))) : null);
  const sessions = j.sessions.map((s) => h('li.session', { dataset: { session: s.session_index } },
    h('h3', {}, `Session ${s.session_index}`, h('span.when', {}, ` ${time(s.start)} – ${time(s.end).slice(11)}`)),
    h('p.session-source', {},
      h('span.chip', {}, s.channel || '(no channel)'),
      ' ', [s.source, s.medium].filter(Boolean).join(' / ') || 'direct',
      s.campaign ? [' · campaign ', h('strong', {}, s.campaign)] : null,
      s.landing_page ? [' · landed on ', h('code', {}, s.landing_page)] : null),
    h('ol.touches', {}, s.touches.map(touch))));
  return h('section.card.journey', { 'aria-labelledby': 'journey-title' }, head, facts,
    h('ol.sessions', { 'aria-label': 'Sessions in time order' }, sessions));
}

function touch(t) {
  const changed = t.stage_before !== t.stage_after;
  const what = t.type === 'pageview' || !t.name ? t.type : `${t.type}: ${t.name}`;
  return h('li.touch' + (changed ? '.changed' : ''), { dataset: { touch: t.touch_index } },
    h('div.touch-when', {}, time(t.ts).slice(11, 19), h('span.idx', {}, `#${t.touch_index}`)),
    h('div.touch-what', {},
      h('span.type', {}, what), ' ',
      h('code.page', {}, (t.page_host || '') + (t.page_path || '')),
      h('div.touch-source', {}, [t.channel, [t.source, t.medium].filter(Boolean).join(' / '), t.term ? `“${t.term}”` : null, t.campaign]
        .filter(Boolean).join(' · ') || 'direct')),
    h('div.touch-stage', {}, stageBadge(t.stage_before), h('span.arrow', { 'aria-label': changed ? 'moved to' : 'stayed' }, changed ? ' → ' : ' = '), stageBadge(t.stage_after)),
    h('div.touch-rules', {}, t.reasons.length
      ? h('ul.rules', { 'aria-label': 'Rules fired' }, t.reasons.map((r) => h('li', {}, h('code', {}, r))))
      : h('span.none', {}, 'no rule fired'),
    t.score ? h('span.score', {}, ` score ${Math.round(t.score * 10) / 10}`) : null));
}
