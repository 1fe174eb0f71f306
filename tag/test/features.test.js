import { describe, expect, test } from 'vitest'
import { boot, collector, hide, show, wait } from './helpers.js'

const link = (href) => {
  const a = document.createElement('a')
  a.href = href
  a.innerHTML = '<span>go</span>'
  document.body.append(a)
  return a
}
const click = (el, init = {}) => el.dispatchEvent(new MouseEvent(init.type || 'click', { bubbles: true, cancelable: true, button: 0, ...init }))

describe('optional features', () => {
  test('data-outbound: clicks on links to other hosts', async () => {
    const net = collector()
    await boot({ attrs: { outbound: '' } })
    const ext = link('https://partner.example.org/page?x=1')
    ext.addEventListener('click', (e) => {
      e.preventDefault() // jsdom cannot navigate
      e.stopPropagation() // the page stopping the event does not hide it
    })
    click(ext.firstChild)
    click(link('/internal'))
    click(link('mailto:a@b.c'))
    click(ext, { type: 'auxclick', button: 1 }) // middle click opens it too
    click(ext, { type: 'auxclick', button: 2 }) // right click does not
    await wait(1000)
    expect(net.events('event').map((e) => [e.name, e.props])).toEqual([
      ['outbound_click', { href: 'https://partner.example.org/page?x=1' }],
      ['outbound_click', { href: 'https://partner.example.org/page?x=1' }],
    ])
    document.body.innerHTML = ''
  })

  test('no click tracking without the attributes', async () => {
    const net = collector()
    await boot()
    click(link('https://partner.example.org/'))
    click(link('/file.pdf'))
    await wait(1000)
    expect(net.events('event')).toEqual([])
    document.body.innerHTML = ''
  })

  test('data-downloads: default extensions', async () => {
    const net = collector()
    await boot({ attrs: { downloads: '' } })
    click(link('/files/Report.PDF?v=2'))
    click(link('/page.html'))
    await wait(1000)
    expect(net.events('event').map((e) => [e.name, e.props])).toEqual([
      ['file_download', { href: 'https://www.example.com/files/Report.PDF?v=2', ext: 'pdf' }],
    ])
    document.body.innerHTML = ''
  })

  test('data-downloads="epub, sketch": the listed extensions only', async () => {
    const net = collector()
    await boot({ attrs: { downloads: 'epub, sketch' } })
    click(link('https://cdn.example.net/book.epub'))
    click(link('/doc.pdf'))
    await wait(1000)
    expect(net.events('event').map((e) => e.props.ext)).toEqual(['epub'])
    document.body.innerHTML = ''
  })

  test('data-forms: form name or id, never a field value', async () => {
    const net = collector()
    await boot({ attrs: { forms: '' } })
    document.body.innerHTML = `
      <form name="signup"><input name="email" value="secret@example.org"><input name="name" value="Secret Name"></form>
      <form id="contact"><input name="id" value="SECRET-ID"><input type="password" value="hunter2"></form>
      <form><textarea name="msg">secret text</textarea></form>
      <form name="quote" data-tt-lead><input name="phone" value="+33 1 99 99 99 99"></form>`
    for (const f of document.forms) f.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }))
    await wait(1000)
    expect(net.events('event').map((e) => [e.name, e.props])).toEqual([
      ['form_submit', { form: 'signup' }],
      ['form_submit', { form: 'contact' }],
      ['form_submit', { form: '' }],
      ['form_submit', { form: 'quote', lead: true }],
    ])
    const everything = net.requests.map((r) => r.init.body).join('')
    for (const secret of ['secret@example.org', 'Secret Name', 'SECRET-ID', 'hunter2', 'secret text', '99 99 99']) expect(everything).not.toContain(secret)
    document.body.innerHTML = ''
  })

  test('data-engagement: visible time and scroll depth, sent on page hide and route change', async () => {
    const net = collector()
    Object.defineProperty(document.documentElement, 'scrollHeight', { value: 4000, configurable: true })
    window.innerHeight = 1000
    window.scrollY = 0
    await boot({ attrs: { engagement: '' } })
    await wait(5000)
    window.scrollY = 2000
    window.dispatchEvent(new Event('scroll'))
    hide()
    expect(net.sendBeacon).toHaveBeenCalledTimes(1)
    await wait(60000) // hidden time does not count
    show()
    await wait(3000)
    history.pushState(null, '', '/next') // leaving the page: its engagement first
    await wait(1000)
    const eng = net.events('engagement')
    expect(eng.map((e) => [e.url, e.props])).toEqual([
      ['https://www.example.com/', { engaged_ms: 5000, scroll_pct: 75 }],
      ['https://www.example.com/', { engaged_ms: 3000, scroll_pct: 75 }],
    ])
    delete document.documentElement.scrollHeight
    window.scrollY = 0
  })
})
