// Benchmark floor (TT_BENCH_VARIANTS=floor2): what a page view with a visitor and a session costs at the least:
// floor1.js plus the visitor id from document.cookie, the session read and written in localStorage, an event id
// from crypto.randomUUID() and the page's URL.
try{(()=>{let a=document.currentScript.getAttribute('data-api');setTimeout(()=>{let c=document.cookie.match(/(^|; )_tt=([^;]*)/),s=JSON.parse(localStorage._tt_s||'{}');s.t=Date.now();localStorage._tt_s=JSON.stringify(s);fetch(a,{method:'POST',body:JSON.stringify({v:2,vid:c&&c[2],sid:s.sid,id:crypto.randomUUID(),url:location.href,events:[]}),keepalive:true}).then(r=>r.ok,()=>0)})})()}catch{}
