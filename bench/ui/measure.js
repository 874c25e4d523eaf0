// Browser side of bench/ui/measure.py, in headless Debian chromium (playwright-core).
//   node measure.js render N   -> N cold loads each of the overview and of a 1,000-row history
//                                 page; prints one JSON line of timings (ms from navigation start)
//   node measure.js open K     -> K tabs on the overview (auto-refreshing every 10 s), printing
//                                 "ready"; on stdin EOF prints the API requests they made and exits
// Environment: GF_URL, GF_TOKEN, NODE_PATH.
'use strict';
const { chromium } = require('playwright-core');

const base = process.env.GF_URL;
const token = process.env.GF_TOKEN;

async function loggedInContext(browser, viewport = { width: 1280, height: 800 }) {
  const ctx = await browser.newContext({ viewport });
  const r = await ctx.request.post(`${base}/api/v1/login`, { data: { token } });
  if (!r.ok()) {
    throw new Error(`login: ${r.status()} ${await r.text()}`);
  }
  // The page restores its session (GET /api/v1/session) when this browser logged in before.
  await ctx.addInitScript(() => localStorage.setItem('gf.session', ''));
  return ctx;
}

// Navigation start -> the page's own "rendered" mark, first contentful paint, and the end of the
// first frame after the rendered mark (the rows or charts are on screen then).
async function coldLoad(ctx, hash, page, extraWait) {
  const p = await ctx.newPage();
  const errors = [];
  p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await p.goto(`${base}/ui/${hash}`);
  await p.waitForSelector(`#main[data-rendered="${page}"]`, { timeout: 60000 });
  if (extraWait) {
    await p.waitForSelector(extraWait);
  }
  const t = await p.evaluate(async (name) => {
    const frame = await new Promise((res) => requestAnimationFrame(() => setTimeout(() => res(performance.now()), 0)));
    const mark = performance.getEntriesByName(`gf:rendered:${name}`)[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    return {
      rendered_ms: mark ? mark.startTime : null,
      fcp_ms: fcp ? fcp.startTime : null,
      next_frame_ms: frame,
      rows: document.querySelectorAll('table.history tbody tr[data-id]').length,
      dom_nodes: document.getElementsByTagName('*').length,
    };
  }, page);
  if (errors.length) {
    throw new Error(`console errors: ${errors.join('; ')}`);
  }
  await p.close();
  return t;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function render(n) {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox'] });
  const ctx = await loggedInContext(browser);
  const out = { overview: [], history1000: [] };
  // One warm-up load of each (the first chromium page pays for process start-up).
  await coldLoad(ctx, '#/overview', 'overview', '.charts[data-loaded]');
  await coldLoad(ctx, '#/history?limit=1000', 'history');
  for (let i = 0; i < n; i += 1) {
    out.overview.push(await coldLoad(ctx, '#/overview', 'overview', '.charts[data-loaded]'));
    out.history1000.push(await coldLoad(ctx, '#/history?limit=1000', 'history'));
  }
  for (const k of ['overview', 'history1000']) {
    out[`${k}_median`] = Object.fromEntries(['rendered_ms', 'fcp_ms', 'next_frame_ms'].map((f) =>
      [f, Math.round(median(out[k].map((x) => x[f])) * 10) / 10]));
  }
  out.history_rows = out.history1000.map((x) => x.rows);
  process.stdout.write(`${JSON.stringify(out)}\n`);
  await browser.close();
}

async function open(k) {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox'] });
  const ctx = await loggedInContext(browser);
  let requests = 0;
  ctx.on('request', (r) => {
    if (r.url().includes('/api/v1/')) {
      requests += 1;
    }
  });
  for (let i = 0; i < k; i += 1) {
    const p = await ctx.newPage();
    await p.goto(`${base}/ui/#/overview`);
    await p.waitForSelector('.charts[data-loaded]');
  }
  const before = requests;
  const t0 = Date.now();
  process.stdout.write('ready\n');
  process.stdin.resume();
  process.stdin.on('end', async () => {
    process.stdout.write(`${JSON.stringify({ api_requests: requests - before, seconds: (Date.now() - t0) / 1000 })}\n`);
    await browser.close();
    process.exit(0);
  });
}

const [mode, arg] = process.argv.slice(2);
(mode === 'render' ? render(Number(arg || 5)) : open(Number(arg || 1))).catch((e) => {
  process.stderr.write(`measure.js: ${e.stack || e}\n`);
  process.exit(1);
});
