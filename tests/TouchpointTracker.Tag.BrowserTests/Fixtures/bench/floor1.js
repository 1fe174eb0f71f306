// Benchmark floor (TT_BENCH_VARIANTS=floor1): not a tag. What one POST per page view costs the main thread at the
// least: the script reads its data-api attribute and, in a task of its own, sends one small JSON body with
// fetch (keepalive) and reads the answer's status. Nothing stored, no hooks.
try{(()=>{let a=document.currentScript.getAttribute('data-api');setTimeout(()=>{fetch(a,{method:'POST',body:JSON.stringify({v:2,events:[]}),keepalive:true}).then(r=>r.ok,()=>0)})})()}catch{}
