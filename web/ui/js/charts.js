// Hand-written SVG line charts. One chart = a figure with a caption, an SVG (role="img" with a
// text summary for screen readers), a legend and a collapsible table of the same numbers.
// Charts are drawn at the width of their container and redrawn when the window resizes.
import { h, svg, fmtNumber } from './dom.js';

export const kPalette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf',
  '#8c564b', '#e377c2'];

// The smallest 1, 2 or 5 x 10^k at least x: a grid step that gives round tick labels.
function niceStep(x) {
  if (!(x > 0)) {
    return 0.25;
  }
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) {
    if (m * p >= x * (1 - 1e-9)) {
      return m * p;
    }
  }
  return 10 * p;
}

const pad = (n) => String(n).padStart(2, '0');
export function timeLabel(t, spanS) {
  const d = new Date(t * 1000);
  if (spanS > 0 && spanS < 600) {
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  if (spanS > 2 * 86400) {
    return `${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()]} ${pad(d.getHours())}h`;
  }
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// opts: { title, unit, times: [unix s...], series: [{label, values: [...]}], height, legend }
// values[i] belongs to times[i]; null/undefined is a gap. The legend shows each series' total,
// or its last value with legend: 'last' (for levels such as cumulative counts or TTLs).
export function lineChart(opts) {
  const fig = h('figure', { class: 'chart' });
  const draw = () => {
    const width = Math.max(280, Math.floor(fig.clientWidth || fig.parentElement?.clientWidth || 600));
    fig.replaceChildren(...render(opts, width));
  };
  fig.redraw = draw;
  // Drawn once now (at a guessed width) so the figure has content, again once it is placed.
  fig.replaceChildren(...render(opts, 600));
  requestAnimationFrame(draw);
  charts.add(fig);
  return fig;
}

const charts = new Set();
let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    for (const fig of charts) {
      if (fig.isConnected) {
        fig.redraw();
      } else {
        charts.delete(fig);
      }
    }
  }, 100);
});

function render(opts, width) {
  const { title, unit = '', times = [], series = [] } = opts;
  const height = opts.height || 180;
  const m = { l: 46, r: 10, t: 10, b: 24 };
  const iw = width - m.l - m.r;
  const ih = height - m.t - m.b;
  let ymax = 0;
  let points = 0;
  for (const s of series) {
    for (const v of s.values) {
      if (v !== null && v !== undefined && Number.isFinite(Number(v))) {
        ymax = Math.max(ymax, Number(v));
        points += 1;
      }
    }
  }
  const yStep = niceStep(ymax / 4);
  ymax = 4 * yStep;
  const n = times.length;
  const t0 = n ? times[0] : 0;
  const t1 = n ? times[n - 1] : 1;
  const spanS = Math.max(1, t1 - t0);
  const x = (t) => m.l + (n > 1 ? ((t - t0) / spanS) * iw : iw / 2);
  const y = (v) => m.t + ih - (v / ymax) * ih;

  const totals = series.map((s) => s.values.reduce((a, v) => a + (Number(v) || 0), 0));
  const lasts = series.map((s) => [...s.values].reverse().find((v) => v !== null && v !== undefined));
  const shown = opts.legend === 'last' ? lasts : totals;
  const summary = `${title}: ` + (points === 0 ? 'no data' : series.map((s, i) =>
    `${s.label} ${opts.legend === 'last' ? 'last' : 'total'} ${fmtNumber(shown[i])}, peak ${fmtNumber(Math.max(0, ...s.values.map((v) => Number(v) || 0)))}`)
    .join('; '));
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': summary,
    class: 'chart-svg', 'data-points': points,
  });
  // Grid and y axis.
  for (let i = 0; i <= 4; i += 1) {
    const v = (ymax * i) / 4;
    const yy = y(v);
    root.appendChild(svg('line', { x1: m.l, x2: width - m.r, y1: yy, y2: yy, class: 'grid' }));
    root.appendChild(svg('text', { x: m.l - 6, y: yy + 4, 'text-anchor': 'end', class: 'tick' },
      fmtNumber(v, yStep < 1 ? 2 : 0)));
  }
  // x axis labels: about one per 110 px.
  const nTicks = Math.max(2, Math.min(n, Math.floor(iw / 110)));
  for (let i = 0; i < nTicks && n > 0; i += 1) {
    const idx = Math.round((i * (n - 1)) / Math.max(1, nTicks - 1));
    root.appendChild(svg('text', {
      x: x(times[idx]), y: height - 6, class: 'tick',
      'text-anchor': i === 0 ? 'start' : (i === nTicks - 1 ? 'end' : 'middle'),
    }, timeLabel(times[idx], spanS)));
  }
  series.forEach((s, si) => {
    const color = s.color || kPalette[si % kPalette.length];
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || v === undefined || !Number.isFinite(Number(v)) || i >= n) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(times[i]).toFixed(1)},${y(Number(v)).toFixed(1)}`;
      pen = true;
    });
    if (d) {
      // Every third line dashed: lines that coincide stay distinguishable.
      const path = svg('path', { d, fill: 'none', stroke: color, 'stroke-width': 2,
        'stroke-dasharray': si % 3 === 2 ? '7 4' : null,
        class: 'series', 'data-series': s.label, 'data-total': totals[si] });
      path.appendChild(svg('title', {}, `${s.label}: ${opts.legend === 'last' ? 'last' : 'total'} ${fmtNumber(shown[si])}`));
      root.appendChild(path);
      if (n === 1 || s.values.filter((v) => v !== null && v !== undefined).length === 1) {
        const i = s.values.findIndex((v) => v !== null && v !== undefined);
        root.appendChild(svg('circle', { cx: x(times[i]), cy: y(Number(s.values[i])), r: 3, fill: color }));
      }
    }
  });
  if (points === 0) {
    root.appendChild(svg('text', { x: m.l + iw / 2, y: m.t + ih / 2, 'text-anchor': 'middle',
      class: 'nodata' }, 'no data in this range'));
  }
  const legend = h('ul', { class: 'legend' }, series.map((s, si) => h('li', {},
    h('span', { class: `swatch c${si % kPalette.length}`, 'aria-hidden': 'true' }),
    `${s.label} `, h('span', { class: 'muted' }, fmtNumber(shown[si])))));
  const table = h('details', { class: 'chart-table' }, h('summary', {}, 'Numbers'),
    h('table', {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Time'),
        series.map((s) => h('th', { scope: 'col' }, s.label)))),
      h('tbody', {}, times.map((t, i) => ({ t, i })).filter(({ i }) =>
        series.some((s) => Number(s.values[i]) > 0)).slice(-60).map(({ t, i }) =>
        h('tr', {}, h('td', {}, timeLabel(t, 0)), series.map((s) => h('td', {}, fmtNumber(s.values[i]))))))));
  return [h('figcaption', {}, title, unit ? h('span', { class: 'muted' }, ` (${unit})`) : null), root,
    legend, table];
}
