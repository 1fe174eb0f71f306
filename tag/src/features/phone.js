// Optional (tt.full.js): call tracking by dynamic number insertion.
// data-phone="+33 1 23 45 67 89" is the site's published number. Once per
// session the tag asks the collector (GET <collector>/numbers) which tracking
// number this visitor is shown, keeps the answer in sessionStorage, and
// replaces the published number in the page's text and tel: links, in the
// forms people write it (+33 1 23 45 67 89, 0033..., +33 (0)1..., 01 23 45
// 67 89, 01.23.45.67.89, 01-23-45-67-89, (01) 23...), keeping each
// occurrence's own layout, and in content added later (a throttled
// MutationObserver). No answer within 1.5 s, an error, or no pool: the page
// keeps its number and nothing is logged. The answer is asked again after 10
// minutes in the same session, which keeps the number held while the visitor
// is active.
import { api, attr, site } from '../config.js'
import { load, ls, none } from '../storage.js'
import { d, json, later, now } from '../util.js'

const SEP = '[\\s().\\/\\-\\u00a0\\u202f]*'

// sessionStorage as JSON, never throwing.
const ss = (k, v) => {
  try {
    return v ? sessionStorage.setItem(k, json(v)) : JSON.parse(sessionStorage.getItem(k))
  } catch {}
}

// The digits of s, each followed by optional separators, as a pattern.
const spaced = (s) => s.split('').join(SEP)

// A replacer for answer a: a function turning a text into the text with the
// published number replaced, or undefined when there is nothing to do.
export function replacer(a) {
  let cc = a.cc
  let old = a.replaces.slice(1 + cc.length) // national significant number
  let nu = a.number.slice(1 + cc.length)
  if (a.number.indexOf('+' + cc) || !old) return
  let t = a.trunk
  let intl = '(?:\\+|00)' + (cc == '1' ? '?' : '') + SEP + spaced(cc) + SEP + (t == '0' ? '(?:\\(0\\)' + SEP + ')?' : '') + spaced(old)
  let re = RegExp('(^|[^\\d+])(' + intl + '|\\(?' + spaced(t + old) + ')(?!\\d)', 'g')
  // Same layout, new digits, when the numbers have the same length; else the
  // number written plainly (international, or the national display).
  let swap = (found) => {
    let D = found.replace(/\D/g, '')
    let national = D == t + old
    let want = national ? t + nu : D.slice(0, D.length - old.length) + nu
    let i = 0
    return want.length == D.length ? found.replace(/\d/g, () => want[i++]) : national ? a.display : '+' + cc + nu
  }
  return (s) => (re.lastIndex = 0) || (re.test(s) ? s.replace(re, (m, pre, num) => pre + swap(num)) : void 0)
}

// Replace in every text node and tel: link under `root`.
function apply(fix, root) {
  let w = d.createTreeWalker(root, 4 /* NodeFilter.SHOW_TEXT */)
  let n, v
  while ((n = w.nextNode())) /^(SCRIPT|STYLE|TEXTAREA)$/.test(n.parentNode.nodeName) || ((v = fix(n.nodeValue)) && (n.nodeValue = v))
  for (let a of root.querySelectorAll ? root.querySelectorAll('a[href^="tel:" i]') : [])
    (v = fix(a.getAttribute('href'))) && a.setAttribute('href', v)
}

export function phone() {
  let s = ls('_tt_s')
  let vid = load('_tt')
  // Without stored identity (GPC, storage blocked) there is no visitor to hold a number.
  if (none || !s || !vid) return
  let cached = ss('_tt_n')
  let fix
  let timer
  let show = (a) => {
    if (!a || !(fix = replacer(a))) return
    apply(fix, d.body)
    new MutationObserver(() => (timer ||= later(() => (timer = 0) || apply(fix, d.body), 100))).observe(d.body, {
      childList: true,
      subtree: true,
      characterData: true,
      attributes: true,
      attributeFilter: ['href'],
    })
  }
  if (cached && cached.sid == s.sid) {
    show(cached.a)
    if (now() - cached.t < 6e5) return
  }
  let ctl = new AbortController()
  let stop = later(() => ctl.abort(), 1500)
  let q = new URLSearchParams({ site, vid, sid: s.sid, phone: attr('phone'), url: s.land?.url || '', ref: s.land?.ref || '' })
  fetch(new URL(attr('numbers') || 'numbers', api) + '?' + q, { signal: ctl.signal })
    .then((r) => (r.status == 200 ? r.json() : 0))
    .then((a) => {
      clearTimeout(stop)
      ss('_tt_n', { sid: s.sid, t: now(), a })
      fix || show(a)
    })
    .catch(() => {})
}
