// Line charts with uPlot (vendored, loaded before this module as the global uPlot). Charts follow their
// container's width; the data is also in a table next to each chart, so the chart is aria-hidden.

const live = new Set();
const observer = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const chart = entry.target.uplot;
    const width = Math.floor(entry.contentRect.width);
    if (chart && width > 0 && Math.abs(chart.width - width) > 1) chart.setSize({ width, height: chart.height });
  }
});

export const STAGE_COLORS = {
  awareness: '#4c78a8', consideration: '#f58518', decision: '#54a24b', retention: '#b279a2', advocacy: '#e45756',
};

/** Destroys the charts of the previous view. */
export function disposeCharts() {
  for (const chart of live) {
    observer.unobserve(chart.root.parentElement);
    chart.destroy();
  }
  live.clear();
}

/**
 * A per-day line chart in container: days as 'yyyy-MM-dd', series as [{label, color, values}].
 */
export function dayChart(container, days, series, height = 240) {
  const xs = days.map((d) => Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)) / 1000);
  const width = Math.max(200, Math.floor(container.clientWidth || 300));
  const opts = {
    width,
    height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [
      { stroke: '#555', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' } },
      { stroke: '#555', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' }, size: 48,
        values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? v.toLocaleString('en-US') : '')) },
    ],
    series: [
      { label: 'Day', value: (u, ts) => (ts == null ? '–' : new Date(ts * 1000).toISOString().slice(0, 10)) },
      ...series.map((s) => ({
        label: s.label, stroke: s.color, width: 2, fill: s.fill, points: { show: days.length <= 45, size: 5 },
        value: (u, v) => (v == null ? '–' : v.toLocaleString('en-US')),
      })),
    ],
  };
  const chart = new uPlot(opts, [xs, ...series.map((s) => s.values)], container);
  container.uplot = chart;
  observer.observe(container);
  live.add(chart);
  return chart;
}
