// Calls to the analytics JSON API (same origin). A site that is not open needs a read key: it comes from the
// dashboard URL (?key=, removed from the address bar once read) or the key form, is kept for the tab's life in
// sessionStorage and travels only as "Authorization: Bearer", never in a link.

const api = document.body.dataset.api || '/api/v1';
const KEY_PREFIX = 'tt-dashboard-key:';

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

export function takeKeyFromUrl(site) {
  const url = new URL(location.href);
  const key = url.searchParams.get('key');
  if (key) {
    setKey(site, key);
    url.searchParams.delete('key');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  }
}

export function getKey(site) {
  try {
    return sessionStorage.getItem(KEY_PREFIX + site) || '';
  } catch {
    return memoryKeys.get(site) || '';
  }
}

const memoryKeys = new Map();

export function setKey(site, key) {
  memoryKeys.set(site, key);
  try {
    sessionStorage.setItem(KEY_PREFIX + site, key);
  } catch {
    // storage blocked: the key stays in memory for this page
  }
}

function headers(site) {
  const key = getKey(site);
  return key ? { Authorization: 'Bearer ' + key, Accept: 'application/json' } : { Accept: 'application/json' };
}

/** GET /api/v1/{path}?{params} as JSON; throws ApiError with the problem's detail on a 4xx/5xx. */
export async function getJson(path, params, signal) {
  const site = params.get('site');
  const response = await fetch(`${api}/${path}?${params}`, { headers: headers(site), signal, credentials: 'same-origin' });
  if (!response.ok) {
    let detail = '';
    try {
      const problem = await response.json();
      detail = problem.detail || problem.title || '';
    } catch {
      // not a problem document
    }
    throw new ApiError(response.status, detail);
  }
  return response.json();
}

/** The export URL of a view (no key in it: it is the link a user may copy). */
export function exportUrl(params) {
  const q = new URLSearchParams(params);
  q.set('format', 'csv');
  return `${api}/export?${q}`;
}

/**
 * Downloads an export with the key in a header (a plain link cannot send one). Used only when a key is set;
 * an open site's export link works as a plain link.
 */
export async function downloadWithKey(url, site) {
  const response = await fetch(url, { headers: headers(site), credentials: 'same-origin' });
  if (!response.ok) throw new ApiError(response.status, await response.text());
  const name = /filename="?([^";]+)"?/.exec(response.headers.get('Content-Disposition') || '')?.[1] || 'export.csv';
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
