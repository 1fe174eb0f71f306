// Benchmark floor (TT_BENCH_VARIANTS=floor0): not a tag. A script and one task of its own doing nothing: what
// Chromium charges any script per page view.
setTimeout(()=>{})
