// Delivery: batch events, POST them as text/plain JSON (a simple CORS
// request: no preflight), keep failed batches in localStorage and retry them.
import { api } from './config.js'
import { ls } from './storage.js'
import { json, later, nav, now } from './util.js'

export const MAX_BODY = 63e3 // bytes; keepalive fetch and sendBeacon stop at 64 KiB
export const KEEP = 200 // events kept for retry, oldest batches dropped first
const QK = '_tt_q'

let batch // envelope + events waiting to be sent
let timer // pending flush
let backoff // pending retry: while set, new batches wait in storage
let fails = 0

const size = (x) => new Blob([json(x)]).size
const stored = () => ls(QK) || []
const save = (q) => ls(QK, q[0] ? q : '')

// Keep a batch for a later retry, at most KEEP events in all.
const keep = (b, q = stored()) => {
  for (q.push(b); q.flatMap((x) => x.events).length > KEEP; ) q.shift()
  save(q)
}

// Add one event under envelope `env`; send after `delay` ms unless a send
// is already scheduled. A batch never mixes two sessions and its body stays
// under MAX_BODY (one event is at most about 16,000 characters).
export function enqueue(env, ev, delay) {
  if (batch && (batch.sid != env.sid || size([batch, ev]) > MAX_BODY)) flush()
  ;(batch ||= { ...env, events: [] }).events.push(ev)
  timer ||= later(flush, delay)
}

// Send what is waiting; `hide`: the page may be going away, use sendBeacon.
export function flush(hide) {
  clearTimeout(timer)
  timer = 0
  batch && ship(batch, hide)
  batch = 0
}

function ship(b, hide) {
  if (backoff) return keep(b)
  b.sent = now()
  const body = json(b)
  hide
    ? nav.sendBeacon(api, body) || keep(b)
    : fetch(api, { method: 'POST', body, keepalive: true }).then(
        (r) =>
          r.ok
            ? retry((fails = 0))
            : // 408, 429 and 5xx are retried; 400, 403, 413, 422... mean a bad payload: dropped
              /./.test(r.status) && fail(b, r.headers.get('Retry-After')),
        () => fail(b),
      )
}

// Back off: Retry-After seconds when given, else 1 s, 2 s, 4 s, 8 s ...,
// at most an hour (longer would overflow setTimeout and fire at once).
function fail(b, after) {
  keep(b)
  clearTimeout(backoff)
  backoff = later(retry, Math.min(36e5, 1e3 * (after > 0 ? after : 2 ** fails++)))
}

// Send every kept batch again (with a fresh "sent").
export function retry() {
  const q = stored()
  clearTimeout(backoff)
  backoff = 0
  save([])
  q.forEach((b) => ship(b))
}

// Drop everything not yet sent (opt-out, consent withdrawn).
export function drop() {
  batch = 0
  save([])
}
