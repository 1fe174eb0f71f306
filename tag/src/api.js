// The tt(...) command set.
import { event, pageview, record, setConsent, stop } from './capture.js'
import { store } from './storage.js'
import { flush } from './transport.js'
import { clean, cut } from './util.js'

export const command = (c, a, b) => {
  if (c == 'track') a && event(cut(a, 64), clean(b))
  else if (c == 'lead' || c == 'purchase') event(c, clean(a))
  else if (c == 'identify') a && record(c, { props: { user_id: cut(a, 256), traits: clean(b) } })
  else if (c == 'pageview') pageview(1)
  else if (c == 'consent') setConsent(a == 'granted')
  else if (c == 'optout') {
    store('_tt_o', 1)
    stop()
  } else if (c == 'optin') store('_tt_o', '')
  else if (c == 'flush') flush()
}
