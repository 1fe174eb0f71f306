// The tt(...) command set. Names, ids and props go as the page gives them
// (beacon v2): the collector cuts and cleans them (docs/tag.md, API).
import { event, pageview, record, setConsent, stop } from './capture.js'
import { store } from './storage.js'
import { flush } from './transport.js'

export const command = (c, a, b) => {
  if (c == 'track') a && event('' + a, b)
  else if (c == 'lead' || c == 'purchase') event(c, a)
  else if (c == 'identify') a && record(c, { props: { user_id: '' + a, traits: b } })
  else if (c == 'pageview') pageview(1)
  else if (c == 'consent') setConsent(a == 'granted')
  else if (c == 'optout') {
    store('_tt_o', 1)
    stop()
  } else if (c == 'optin') store('_tt_o', '')
  else if (c == 'flush') flush()
}
