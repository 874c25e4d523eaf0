// The administrator's side of the dashboard test, in headless Debian chromium driven by
// playwright-core: log in, see the charts populated, relearn a comment as spam and a mail as ham
// from History (and a bulk selection), open a flux name's churn chart, search and edit the
// greylist, then the same pages at phone size and by keyboard. Any console error or uncaught
// page error fails the test. A screenshot of every step goes to ART; one JSON object with the
// results is printed last.
//
// Where greyflux's side must be checked mid-way (the next comment-check, the next scan), this
// script prints "GF-ASK <what>" and waits for "ok" (or a reason) on stdin from ui_test.py.
//
// Usage: node browser.js  (environment: GF_URL, GF_TOKEN, ART, NODE_PATH = the playwright-core
// install, GF_COMMENT_SPAM_IP, GF_COMMENT_HAM_IP, GF_MAIL_SENDER, GF_FLUX_NAME, GF_FLUX_PARTNER,
// GF_POLICY_CLIENT)
// Only 127.0.0.1 is contacted: every other request is aborted (the dashboard must need none).
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');
const { screenshots, asker, fail } = require(path.join(__dirname, '..', 'browser_steps.js'));

const env = (k) => {
  const v = process.env[k];
  if (!v) {
    throw new Error(`browser.js: ${k} is not set`);
  }
  return v;
};
const base = env('GF_URL');
const token = env('GF_TOKEN');
const art = env('ART');

const shooter = screenshots(art);
const screenshot = shooter.take;
const shots = shooter.files;
const ask = asker();
const consoleErrors = [];
const offsite = [];

// A context whose console errors and page errors are collected under `label`; `allowed`
// matches console errors this context provokes on purpose.
async function newContext(browser, label, viewport, allowed = null) {
  const ctx = await browser.newContext({ viewport });
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1') {
      return route.continue();
    }
    offsite.push(u.toString());
    return route.abort();
  });
  ctx.on('page', (page) => watch(page, label, allowed));
  return ctx;
}

function watch(page, label, allowed) {
  page.on('console', (m) => {
    if (m.type() === 'error' && !(allowed && allowed.test(m.text()))) {
      consoleErrors.push(`${label}: ${m.text()} (${m.location().url || '?'})`);
    }
  });
  page.on('pageerror', (e) => consoleErrors.push(`${label}: uncaught ${e.message}`));
}

async function login(page) {
  await page.goto(`${base}/ui/`);
  await page.waitForSelector('#token');
  await page.fill('#token', token);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('#main[data-rendered="overview"]');
}

async function rendered(page, name) {
  await page.waitForSelector(`#main[data-rendered="${name}"]`, { timeout: 20000 });
}

// The app sets #main[data-rendered] once a page has drawn; clearing it first means the wait
// below cannot see the previous page's mark.
async function unmark(page) {
  await page.evaluate(() => { delete document.getElementById('main').dataset.rendered; });
}

async function go(page, hash, name) {
  await unmark(page);
  await page.evaluate((h) => {
    if (location.hash === h) {
      window.dispatchEvent(new HashChangeEvent('hashchange'));  // the same page, drawn again
    } else {
      location.hash = h;
    }
  }, hash);
  await rendered(page, name);
}

// Each chart's SVG holds data-points = the number of plotted values; a chart is populated when
// it has at least one line.
async function chartState(page) {
  return page.$$eval('#main figure.chart', (figs) => figs.map((f) => ({
    title: f.querySelector('figcaption').textContent,
    points: Number(f.querySelector('svg').dataset.points),
    lines: [...f.querySelectorAll('path.series')].map((p) => p.dataset.series),
    totals: Object.fromEntries([...f.querySelectorAll('path.series')].map((p) =>
      [p.dataset.series, Number(p.dataset.total)])),
  })));
}

async function badToken(browser, out) {
  // Its one expected console error: the browser's own line for the 401 answer.
  const ctx = await newContext(browser, 'bad-token', { width: 1280, height: 800 },
    /status of 401/);
  const page = await ctx.newPage();
  await page.goto(`${base}/ui/`);
  await page.fill('#token', 'not-a-valid-token-000000000000');
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('form.login .status.bad');
  out.badToken = (await page.textContent('form.login .status.bad')).trim();
  if (out.badToken !== 'That token is not valid.') {
    fail(`a bad token shows "${out.badToken}"`);
  }
  if (await page.isVisible('#nav')) {
    fail('the navigation is shown before logging in');
  }
  await screenshot(page, 'login-bad-token');
  await ctx.close();
}

async function overview(page, out) {
  await screenshot(page, 'overview-hour');
  const charts = await chartState(page);
  out.charts = charts;
  const want = { Greylist: ['defer', 'pass'], Comments: ['ham'], Mail: ['spam'] };
  for (const [title, lines] of Object.entries(want)) {
    const c = charts.find((x) => x.title.startsWith(title));
    if (!c) {
      fail(`no ${title} chart on the overview`);
    }
    for (const l of lines) {
      if (!(c.totals[l] > 0)) {
        fail(`the ${title} chart's "${l}" line is empty (totals: ${JSON.stringify(c.totals)})`);
      }
    }
  }
  const status = await page.textContent('#status');
  for (const w of ['Version', 'Uptime', 'Store', 'Fail-open', 'healthy']) {
    if (!status.includes(w)) {
      fail(`the status cards do not say "${w}": ${status}`);
    }
  }
  await page.click('.tabs button[data-range="day"]');
  await page.waitForSelector('.charts[data-loaded="day"]');
  const day = await chartState(page);
  if (!day.some((c) => c.points > 0)) {
    fail('the day range shows no data');
  }
  await screenshot(page, 'overview-day');
  await page.click('.tabs button[data-range="hour"]');
  await page.waitForSelector('.charts[data-loaded="hour"]');
}

async function filterHistory(page, fields) {
  await go(page, '#/history', 'history');
  await page.selectOption('#f-door', fields.door || '');
  for (const k of ['verdict', 'symbol', 'site', 'client', 'sender']) {
    await page.fill(`#f-${k}`, fields[k] || '');
  }
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/v1/history?')),
    page.click('form.filters button[type=submit]'),
  ]);
  await page.waitForFunction(() => !document.querySelector('main .status').textContent.startsWith('Loading'));
  return page.$$('table.history tbody tr[data-id]');
}

async function learnOne(page, fields, cls, name, wantReasons) {
  const rows = await filterHistory(page, fields);
  if (rows.length === 0) {
    fail(`History has no row for ${JSON.stringify(fields)}: ${await page.textContent('main')}`);
  }
  const row = rows[0];
  const id = await row.getAttribute('data-id');
  await row.$eval('button.expand', (b) => b.click());
  const detail = page.locator(`#reasons-${id}`);
  await detail.waitFor();
  const reasons = detail.locator('table.reasons tbody tr');
  const nReasons = await reasons.count();
  // A row expands to its reasons with their weights (a ham comment may have none: it says so).
  const shown = (await detail.textContent()).trim();
  if (wantReasons && nReasons === 0) {
    fail(`row ${id} expands to no reasons: "${shown}"`);
  }
  if (nReasons === 0 && shown !== 'No reasons recorded.') {
    fail(`row ${id} expands to "${shown}"`);
  }
  await screenshot(page, `${name}-reasons`);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/history/learn')),
    row.$eval(`button[data-learn="${cls}"]`, (b) => b.click()),
  ]);
  if (resp.status() !== 200) {
    fail(`learn ${cls} on ${id}: ${resp.status()} ${await resp.text()}`);
  }
  await page.waitForSelector('main .status.good');
  const said = await page.textContent('main .status.good');
  const learned = await page.textContent(`tr[data-id="${id}"] .learned`);
  await screenshot(page, `${name}-learned`);
  return { id, reasons: nReasons, said, learned };
}

async function bulk(page, out) {
  const rows = await filterHistory(page, { door: 'comments', client: process.env.GF_COMMENT_HAM_IP });
  if (rows.length < 2) {
    fail(`bulk: only ${rows.length} comment rows from ${process.env.GF_COMMENT_HAM_IP}`);
  }
  await page.check('#select-all');
  const n = Number((await page.textContent('#selected-count')).split(' ')[0]);
  if (n !== rows.length) {
    fail(`select-all selected ${n} of ${rows.length} rows`);
  }
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/history/learn')),
    page.click('button[data-bulk="ham"]'),
  ]);
  const body = await resp.json();
  const already = (body.skipped || []).filter((x) => x.reason === 'already_learned').length;
  if (resp.status() !== 200 || body.learned + already !== n || body.skipped.length !== already) {
    fail(`bulk learn: ${resp.status()} ${JSON.stringify(body)} for ${n} rows`);
  }
  await screenshot(page, 'history-bulk-not-spam');
  out.bulk = { selected: n, answer: body };
}

async function fluxPages(page, out) {
  const name = env('GF_FLUX_NAME');
  await go(page, '#/flux', 'flux');
  await screenshot(page, 'flux-ranked');
  const link = page.locator(`table.flux a[href="#/flux/${encodeURIComponent(name)}"]`);
  if ((await link.count()) === 0) {
    fail(`${name} is not in the ranked flux list: ${await page.textContent('main')}`);
  }
  await unmark(page);
  await link.first().click();
  await rendered(page, 'flux');
  await page.waitForSelector('#churn figure.chart svg');
  const churn = await chartState(page);
  out.churn = churn;
  const addresses = churn.find((c) => c.title.startsWith('Distinct addresses'));
  if (!addresses || addresses.points < 2 || !addresses.lines.includes('addresses')) {
    fail(`the churn chart of ${name} is not populated: ${JSON.stringify(churn)}`);
  }
  out.fluxHeading = await page.textContent('main h2');
  // Its flux network: the partner name answered by the same agents, as a link to its page.
  const partner = env('GF_FLUX_PARTNER');
  const net = page.locator(`section[aria-label="Flux network"] a[href="#/flux/${encodeURIComponent(partner)}"]`);
  if ((await net.count()) !== 1) {
    fail(`the flux network of ${name} does not list ${partner}: ${await page.textContent('main')}`);
  }
  out.fluxNetwork = await page.textContent('section[aria-label="Flux network"]');
  out.rpz = await page.textContent('pre.rpz');
  if (!out.rpz.includes(`${name} CNAME .`)) {
    fail(`no RPZ line for ${name}: ${out.rpz}`);
  }
  await screenshot(page, 'flux-name-churn');
}

async function greylistPage(page, out) {
  const client = env('GF_POLICY_CLIENT');
  await go(page, '#/greylist', 'greylist');
  await page.fill('#g-client', client);
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/v1/greylist?')),
    page.click('form.filters button[type=submit]'),
  ]);
  const rows = page.locator('#greylist-results table tbody tr');
  await rows.first().waitFor();
  out.greylistRows = await rows.count();
  await screenshot(page, 'greylist-search');
  const [del] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/greylist') && r.request().method() === 'DELETE'),
    rows.first().locator('button.danger').click(),
  ]);
  if (del.status() !== 200) {
    fail(`delete a greylist entry: ${del.status()} ${await del.text()}`);
  }
  await page.waitForSelector('main .status.good');
  await page.waitForFunction((n) => document.querySelectorAll('#greylist-results table tbody tr').length === n - 1,
    out.greylistRows);
  const entry = '192.0.2.99';
  await page.selectOption('#w-list', 'client');
  await page.fill('#w-entry', entry);
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/whitelist') && r.request().method() === 'POST'),
    page.click('#whitelist form button[type=submit]'),
  ]);
  const wrow = page.locator('#whitelist table tbody tr', { hasText: entry });
  await wrow.first().waitFor();
  await screenshot(page, 'greylist-whitelist-added');
  const [rm] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/whitelist') && r.request().method() === 'DELETE'),
    wrow.locator('button.danger').click(),
  ]);
  if (rm.status() !== 200) {
    fail(`remove a whitelist entry: ${rm.status()} ${await rm.text()}`);
  }
  await page.waitForFunction((e) => ![...document.querySelectorAll('#whitelist td')]
    .some((td) => td.textContent === e), entry);
  out.whitelist = 'added and removed';
}

async function keyboard(page, out) {
  // From the top of a freshly loaded page: Tab reaches the skip link, then the navigation;
  // Enter on "History" opens it.
  // A reload also checks that the page gets its session back (GET /api/v1/session).
  await go(page, '#/overview', 'overview');
  await page.reload();
  await rendered(page, 'overview');
  const seen = [];
  for (let i = 0; i < 6; i += 1) {
    await page.keyboard.press('Tab');
    const t = await page.evaluate(() => document.activeElement.textContent.trim());
    seen.push(t);
    if (t === 'History') {
      break;
    }
  }
  if (seen[seen.length - 1] !== 'History') {
    fail(`Tab never reached the History link: ${JSON.stringify(seen)}`);
  }
  await page.keyboard.press('Enter');
  await rendered(page, 'history');
  // The filter form and the first row's expand button are reachable by Tab too.
  const reach = await page.evaluate(() => [...document.querySelectorAll('main button, main input, main select')]
    .filter((e) => e.tabIndex >= 0 && !e.disabled).length);
  out.keyboard = { tabbed: seen, focusableInHistory: reach };
}

// Every form control has a label (an associated <label> or aria-label).
async function labels(page) {
  return page.evaluate(() => [...document.querySelectorAll('input, select, button')]
    .filter((e) => !e.hidden && e.offsetParent !== null)
    .filter((e) => {
      if (e.getAttribute('aria-label') || (e.labels && e.labels.length)) {
        return false;
      }
      return e.tagName !== 'BUTTON' || e.textContent.trim() === '';
    }).map((e) => e.outerHTML.slice(0, 120)));
}

async function phone(browser, out) {
  const ctx = await newContext(browser, 'phone', { width: 390, height: 844 });
  const page = await ctx.newPage();
  await login(page);
  const overflow = {};
  for (const [hash, name, label] of [['#/overview', 'overview', 'overview'],
    ['#/history', 'history', 'history'], ['#/greylist', 'greylist', 'greylist'],
    ['#/flux', 'flux', 'flux'], [`#/flux/${encodeURIComponent(env('GF_FLUX_NAME'))}`, 'flux', 'flux-name']]) {
    await go(page, hash, name);
    if (name === 'overview') {
      await page.waitForSelector('.charts[data-loaded]');
    }
    // The page itself never scrolls sideways (wide tables scroll inside their own box).
    overflow[label] = await page.evaluate(() => document.documentElement.scrollWidth);
    const unlabelled = await labels(page);
    if (unlabelled.length) {
      fail(`phone ${label}: controls without a label: ${unlabelled.join(' | ')}`);
    }
    await screenshot(page, `phone-${label}`);
  }
  out.phoneScrollWidth = overflow;
  for (const [k, w] of Object.entries(overflow)) {
    if (w > 392) {
      fail(`phone ${k}: the page is ${w} px wide at a 390 px screen`);
    }
  }
  await ctx.close();
}

async function main() {
  fs.mkdirSync(art, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
  });
  const out = {};
  try {
    await badToken(browser, out);
    const ctx = await newContext(browser, 'desktop', { width: 1280, height: 800 });
    const page = await ctx.newPage();
    await login(page);
    await page.waitForSelector('.charts[data-loaded="hour"]');
    await overview(page, out);
    const unlabelled = await labels(page);
    if (unlabelled.length) {
      fail(`overview: controls without a label: ${unlabelled.join(' | ')}`);
    }

    out.comment = await learnOne(page, { door: 'comments', client: env('GF_COMMENT_SPAM_IP') },
      'spam', 'history-comment', false);
    await ask('comment-check-is-spam');
    out.mail = await learnOne(page, { door: 'mail', sender: env('GF_MAIL_SENDER') }, 'ham',
      'history-mail', true);
    await ask('mail-scan-below-threshold');
    await bulk(page, out);
    const histLabels = await labels(page);
    if (histLabels.length) {
      fail(`history: controls without a label: ${histLabels.join(' | ')}`);
    }

    await fluxPages(page, out);
    await greylistPage(page, out);
    await keyboard(page, out);
    await ctx.close();
    await phone(browser, out);
    if (offsite.length) {
      fail(`the dashboard asked for other hosts: ${offsite.join(', ')}`);
    }
    if (consoleErrors.length) {
      fail(`console errors:\n  ${consoleErrors.join('\n  ')}`);
    }
  } catch (e) {
    if (shooter.last() && !shooter.last().isClosed()) {
      await screenshot(shooter.last(), 'FAILED').catch(() => {});
    }
    out.consoleErrors = consoleErrors;
    throw e;
  } finally {
    out.screenshots = shots;
    process.stdout.write(`${JSON.stringify(out)}\n`);
    ask.close();
    await browser.close();
  }
}

main().catch((e) => {
  process.stderr.write(`browser.js: ${e.stack || e}\n`);
  process.exit(1);
});
