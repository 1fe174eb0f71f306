// Delivery: batch events, POST them as text/plain JSON (a simple CORS
// request: no preflight), keep failed batches in localStorage and retry them.
import { api } from './config.js'
import { ls } from './storage.js'
import { json, later, nav, now } from './util.js'

// keepalive fetch and sendBeacon stop at 64 KiB; a UTF-16 code unit is at
// most 3 bytes in UTF-8, so 21,000 characters stay under 63,000 bytes.
export const MAX_CHARS = 21e3
export const KEEP = 200 // events kept for retry, oldest batches dropped first

let batch // envelope + events waiting to be sent
let timer // pending flush
let backoff // pending retry: while set, new batches wait in storage
let busy // a fetch is on its way: new batches wait in storage until it is answered
let fails = 0

const stored = () => ls('_tt_q') || []
const save = (q) => ls('_tt_q', q[0] ? q : '')

// Keep a batch for a later retry, at most KEEP events in all; a batch that
// failed goes first (it is older than what waited meanwhile): order kept.
const keep = (b, first, q = stored()) => {
  for (q[first ? 'unshift' : 'push'](b); q.flatMap((x) => x.events).length > KEEP; ) q.shift()
  save(q)
}

// Add one event under envelope `env`; send after `delay` ms unless a send
// is already scheduled. A batch never mixes two sessions and its body stays
// under MAX_CHARS. Props and titles go uncut (the collector cuts them), so
// an event JSON cannot hold (a cyclic prop: json throws) or too large to
// ever be sent (over MAX_CHARS) is dropped here, never kept to fail again.
export const enqueue = (env, ev, delay, n = json(ev).length) => {
  if (n > MAX_CHARS - 5e3) return
  if (batch && (batch.sid != env.sid || json(batch).length + n > MAX_CHARS)) flush()
  ;(batch ||= { ...env, events: [] }).events.push(ev)
  timer ||= later(flush, delay)
}

// Send what is waiting; `hide`: the page may be going away, use sendBeacon.
export const flush = (hide) => {
  clearTimeout(timer)
  timer = 0
  batch && ship(batch, hide)
  batch = 0
}

// One fetch at a time per page, so batches of a visitor never race each
// other: what comes while one is on its way waits in storage and goes, in
// order, once it is answered. On page hide sendBeacon goes at once (the page
// may be gone before the answer).
const ship = (b, hide) => {
  if (backoff || (busy && !hide)) return keep(b)
  b.sent = now()
  let body = json(b)
  hide
    ? nav.sendBeacon(api, body) || keep(b)
    : (busy = fetch(api, { method: 'POST', body, keepalive: true }).then(
        (r) =>
          (busy = 0) || r.ok
            ? retry((fails = 0))
            : // 408, 429 and 5xx are retried; 400, 403, 413, 422... mean a bad payload: dropped
              /^(408|429|5)/.test(r.status) && fail(b, r.headers.get('Retry-After')),
        () => fail(b, (busy = 0)),
      ))
}

// Back off: Retry-After seconds when given, else 1 s, 2 s, 4 s, 8 s ...,
// at most an hour (longer would overflow setTimeout and fire at once).
// No retry waits here to be cleared: a fetch only goes when none waits, and
// only a failed fetch sets one.
const fail = (b, after) => {
  keep(b, 1)
  backoff = later(retry, Math.min(36e5, 1e3 * (after > 0 ? after : 2 ** fails++)))
}

// Send the oldest kept batch again (with a fresh "sent"); each accepted
// batch sends the next one.
export const retry = () => {
  let q = stored()
  clearTimeout(backoff)
  backoff = 0
  q[0] && ship(q.shift(save(q.slice(1)))) // the rest stays kept
}

// Back online, or the page shown or focused again: while a retry waits,
// try once now instead of at the end of the backoff.
export const wake = () => backoff && retry()

// Drop everything not yet sent (opt-out, consent withdrawn).
export const drop = () => {
  batch = 0
  save([])
}
