// Optional: outbound link clicks (data-outbound) and file downloads
// (data-downloads, with an optional extension list).
import { event } from '../capture.js'
import { attr, flag, list } from '../config.js'
import { d, loc, on } from '../util.js'

export const DOWNLOADS = 'pdf,csv,txt,rtf,doc,docx,xls,xlsx,ppt,pptx,odt,ods,zip,rar,7z,gz,tgz,dmg,exe,msi,pkg,deb,apk,iso,mp3,wav,mp4,mov,avi,epub'

export function clicks() {
  const out = flag('outbound')
  const exts = attr('downloads') == null ? [] : list('downloads').length ? list('downloads') : DOWNLOADS.split(',')
  const f = (e) => {
    if (e.type == 'auxclick' && e.button != 1) return // middle click opens a link, right click does not
    const u = new URL(e.target.closest('a[href]').href)
    const x = ((u.pathname.match(/\.(\w+)$/) || [])[1] || '').toLowerCase()
    const href = u.href
    if (exts.includes(x)) event('file_download', { href, ext: x })
    else if (out && u.host != loc.host && /^https?:$/.test(u.protocol))
      event('outbound_click', { href })
  }
  if (out || exts.length) {
    on(d, 'click', f)
    on(d, 'auxclick', f)
  }
}
