// Small DOM helpers: elements are built with textContent (never innerHTML), so API values cannot inject markup.

import { exportUrl, downloadWithKey, getKey } from './api.js';

/** h('tag.class', {attr: value, onclick: fn}, ...children) */
export function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const num = (n) => (n === null || n === undefined ? '–' : integer.format(n));
export const pct = (r) => (r === null || r === undefined ? '–' : (r * 100).toFixed(1) + '%');
export const cap = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** "2026-12-06 14:03:07 UTC" from an ISO time. */
export function time(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
}

/** Seconds as "42 s", "3.5 min", "2.1 h", "4.0 d". */
export function duration(s) {
  if (s === null || s === undefined) return '–';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/**
 * A section with a heading, an optional CSV export link and a table (caption, th scope=col/row).
 * columns: [{label, num?: true, cls?: 'class'}], rows: arrays of cells (node or text); the first cell is the row header.
 */
export function tableSection({ title, id, exportParams, site, columns, rows, empty = 'No data in this range.', note }) {
  const headId = id + '-title';
  const table = h('table', { id, 'aria-labelledby': headId },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th' + (c.num ? '.num' : '') + (c.cls ? '.' + c.cls : ''), { scope: 'col' }, c.label)))),
    h('tbody', {}, rows.length === 0
      ? h('tr', {}, h('td.empty', { colspan: columns.length }, empty))
      : rows.map((r) => h('tr', {}, r.map((cell, i) => i === 0
        ? h('th', { scope: 'row' }, cell)
        : h('td' + (columns[i]?.num ? '.num' : '') + (columns[i]?.cls ? '.' + columns[i].cls : ''), {}, cell))))));
  return h('section.card', { 'aria-labelledby': headId },
    h('div.card-head', {},
      h('h2', { id: headId }, title),
      exportParams ? exportLink(exportParams, site) : null),
    note ? h('p.note', {}, note) : null,
    h('div.scroll', { tabindex: 0, role: 'region', 'aria-label': title + ' (scrolls sideways)' }, table));
}

/** The "CSV" link of a table: a plain link to the API's export; with a key, a download through fetch. */
export function exportLink(params, site) {
  const href = exportUrl(params);
  return h('a.export', {
    href,
    download: '',
    'aria-label': 'Export as CSV',
    onclick: (e) => {
      if (!getKey(site)) return;
      e.preventDefault();
      downloadWithKey(href, site).catch((err) => console.warn('export failed', err.message));
    },
  }, 'CSV ↓');
}

export function kpi(label, value, name, sub) {
  return h('div.kpi', { dataset: { kpi: name } },
    h('span.kpi-label', {}, label),
    h('span.kpi-value', {}, value),
    sub ? h('span.kpi-sub', {}, sub) : null);
}

export function stageBadge(stage) {
  return stage ? h('span.stage.stage-' + stage, {}, stage) : h('span.stage', {}, '–');
}

/** A horizontal bar whose length is a share (0..1): the width is set through CSSOM, which the CSP allows. */
export function bar(share, cls = '') {
  const fill = h('span.bar-fill' + (cls ? '.' + cls : ''));
  fill.style.width = `${Math.max(0, Math.min(1, share || 0)) * 100}%`;
  return h('span.bar', { 'aria-hidden': 'true' }, fill);
}
