// Benchmark floor (TT_BENCH_VARIANTS=floor2c): floor1.js plus reading the visitor id from document.cookie.
try{(()=>{let a=document.currentScript.getAttribute('data-api');setTimeout(()=>{let c=document.cookie.match(/(^|; )_tt=([^;]*)/);fetch(a,{method:'POST',body:JSON.stringify({v:2,vid:c&&c[2],events:[]}),keepalive:true}).then(r=>r.ok,()=>0)})})()}catch{}
