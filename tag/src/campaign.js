// Campaign detection: utm_* parameters and ad-platform click ids (gclid,
// dclid, msclkid, fbclid, ttclid, twclid, qclid, irclid and any other
// "...clid", gbraid, wbraid, li_fat_id, rdt_cid, epik, sccid, mc_cid, _kx;
// gclsrc always comes with gclid), plus the names listed in data-click-ids.
import { attr } from './config.js'

export const CAMPAIGN = 'utm_\\w+|\\w*clk?id|[gw]braid|li_fat_id|rdt_cid|epik|sccid|mc_cid|_kx'

const re = RegExp('[?&](' + CAMPAIGN + (FEATURE_CLICK_IDS ? '|' + (attr('click-ids') || '_').replace(/[^\w-]+/g, '|') : '') + ')=[^&#]*', 'gi')

// The campaign parameters of `url` ("?utm_source=x&gclid=y"), '' if none.
export const campaign = (url) => url.match(re)?.join('') || ''
