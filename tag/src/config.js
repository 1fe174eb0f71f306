// The tag's settings: data- attributes on its own <script> element.
import { d, loc } from './util.js'

const el = d.currentScript

export const attr = (n) => el.getAttribute('data-' + n)

// Switches are on when present, whatever their value (like HTML's defer).
export const flag = (n) => attr(n) != null

// Comma or space separated, lower-cased.
export const list = (n) =>
  (attr(n) || '')
    .toLowerCase()
    .split(/[\s,]+/)
    .filter((x) => x)

export const site = attr('site') || loc.hostname

// data-api may be absolute or a path; both resolve against the script's
// own URL, so the default is "<script origin>/collect".
export const api = new URL(attr('api') || '/collect', el.src).href
