// The blog owner's and the visitors' side of the WordPress test, in headless Debian chromium
// driven by playwright-core. Saves a screenshot of every step in ART and prints one JSON object
// with the comment ids it made. The greyflux side is checked by wordpress_test.py.
//
// Where the test must act on greyflux mid-way (stop it, start it again with a usage limit),
// this script prints "GF-ASK <what>" and waits for the line "ok" on stdin.
//
// Usage: node browser.js   (settings in the environment: WP_URL, WP_ADMIN, WP_PASSWORD, GF_KEY,
//                           ART, NODE_PATH = the playwright-core install)
// Only 127.0.0.1 is ever contacted: every other request of the pages (gravatar, the plugin's
// akismet.com iframes, fonts) is aborted, and the resolver maps all other names to nothing.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');
const { screenshots, asker, fail } = require(path.join(__dirname, '..', 'browser_steps.js'));

const url = process.env.WP_URL;
const admin = process.env.WP_ADMIN;
const password = process.env.WP_PASSWORD;
const key = process.env.GF_KEY;
const art = process.env.ART;
// A visitor takes at least this long between opening the post and sending a comment: greyflux
// (like Akismet) treats a form sent within 5 s of the page's own clock as FAST_SUBMIT.
const kHumanMs = 6000;

const texts = {
  ham: 'I baked this rye bread last weekend with a little less salt and it came out ' +
       'beautifully, thank you for the clear steps and the photos.',
  spam: 'Best pharmacy deals online! Buy cheap viagra without prescription at ' +
        'https://pills-discount.example/viagra and https://cheap-meds.example/cialis , ' +
        'https://rx-pharmacy.example/tramadol , https://online-drugstore.example/xanax ' +
        'and https://meds-now.example/valium . Fast shipping, no prescription needed!',
};

const shooter = screenshots(art);
const screenshot = shooter.take;
const shots = shooter.files;
const ask = asker();

async function bodyText(page) {
  return page.textContent('body');
}

async function newContext(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1' || u.protocol === 'data:') {
      return route.continue();
    }
    return route.abort();
  });
  return ctx;
}

// The owner pastes the key on the plugin's settings page ("Manually enter an API key").
async function enterKey(page) {
  await page.goto(`${url}/wp-admin/options-general.php?page=akismet-key-config`);
  await screenshot(page, 'akismet-settings-before-key');
  await page.click('text=Manually enter an API key');
  const form = page.locator('form:has(input[name="action"][value="enter-key"])');
  await form.locator('input[name="key"]').fill(key);
  await Promise.all([page.waitForNavigation(), form.locator('input[type="submit"]').click()]);
  await screenshot(page, 'akismet-settings-key-valid');
  const input = page.locator('input#key');
  if ((await input.inputValue()) !== key) {
    fail(`settings page shows key ${await input.inputValue()}, not ${key}`);
  }
  const cls = (await input.getAttribute('class')) || '';
  if (!cls.split(/\s+/).includes('active')) {
    fail(`the key field is not marked active (class "${cls}")`);
  }
  const body = await page.textContent('body');
  // The plugin's own words for a key it verified (verify-key) and saved (get-subscription says
  // "active"), and its connection test (/1.1/test) passed.
  for (const want of ['Akismet is now protecting your site from spam', 'Subscription Type',
    'Status', 'Active']) {
    if (!body.includes(want)) {
      fail(`settings page does not say "${want}"`);
    }
  }
  if (body.includes('connect to the Akismet servers') || body.includes('key is invalid')) {
    fail('settings page reports a connection or key problem');
  }
  return { notice: (await page.locator('.akismet-alert').allTextContents()).join(' ').trim() };
}

// A visitor opens the post, fills the theme's comment form at a human pace and sends it.
async function visitorComment(browser, postUrl, who, text, name) {
  const ctx = await newContext(browser);
  const page = await ctx.newPage();
  await page.goto(postUrl);
  const shown = Date.now();
  await page.fill('#author', who.name);
  await page.fill('#email', who.email);
  await page.type('#comment', text, { delay: 5 });
  const left = kHumanMs - (Date.now() - shown);
  if (left > 0) {
    await page.waitForTimeout(left);
  }
  await Promise.all([page.waitForNavigation(), page.click('#submit')]);
  const m = /#comment-(\d+)/.exec(page.url());
  if (!m) {
    fail(`no comment id after posting (${page.url()}): ${(await page.textContent('body')).slice(0, 300)}`);
  }
  const id = Number(m[1]);
  const visible = await page.locator(`#comment-${id}`).count();
  const held = (await bodyText(page)).includes('Your comment is awaiting moderation');
  await screenshot(page, name);
  await ctx.close();
  return { id, visible: visible > 0, held };
}

// In the admin's comment screen: hover the row and use its Spam / Not Spam action (AJAX).
async function rowAction(page, status, id, action, name) {
  await page.goto(`${url}/wp-admin/edit-comments.php?comment_status=${status}`);
  const row = page.locator(`#comment-${id}`);
  if ((await row.count()) === 0) {
    fail(`comment ${id} is not in the ${status} list`);
  }
  await row.hover();
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('admin-ajax.php') && r.request().method() === 'POST'),
    row.locator(`.row-actions .${action} a`).first().click(),
  ]);
  if (resp.status() !== 200) {
    fail(`${action} on comment ${id}: admin-ajax answered ${resp.status()}`);
  }
  await screenshot(page, name);
}

async function inList(page, status, id) {
  await page.goto(`${url}/wp-admin/edit-comments.php?comment_status=${status}`);
  return (await page.locator(`#comment-${id}`).count()) > 0;
}

// greyflux is down while a visitor comments: the plugin holds the comment for moderation. Once
// greyflux is back, the owner presses "Check for Spam" on the comment screen (the plugin's
// recheck queue: comment-check with recheck_reason=recheck_queue) and the comment, whose text
// the owner reported as spam earlier, moves to the spam folder; the pending comment the owner
// marked as not spam stays.
async function heldThenCheckForSpam(browser, page, postUrl, c) {
  await ask('stop-greyflux');
  c.held = await visitorComment(browser, postUrl, { name: 'Dee Held', email: 'dee@mail.example' },
    texts.ham, 'visitor-comment-held-while-greyflux-down');
  if (!c.held.held) {
    fail(`comment ${c.held.id} (greyflux down) is not awaiting moderation`);
  }
  await ask('start-greyflux-over-usage-limit');
  await page.goto(`${url}/wp-admin/edit-comments.php?comment_status=moderated`);
  if ((await page.locator(`#comment-${c.held.id}`).count()) === 0) {
    fail(`comment ${c.held.id} is not in the pending list`);
  }
  await screenshot(page, 'admin-pending-before-check-for-spam');
  const button = page.locator('a.checkforspam:not(.button-disabled)').first();
  await Promise.all([
    page.waitForURL(/akismet_recheck_complete=1/, { timeout: 60000 }),
    button.click(),
  ]);
  await page.waitForLoadState();
  await screenshot(page, 'admin-check-for-spam-done');
  const done = new URL(page.url()).searchParams;
  c.recheck = { count: Number(done.get('recheck_count')), spam: Number(done.get('spam_count')) };
  // Two comments are pending: the held one, and the one the owner marked "not spam" (an
  // unspammed comment that was never approved goes back to pending). Only the first is spam.
  if (c.recheck.count !== 2 || c.recheck.spam !== 1) {
    fail(`Check for Spam: ${page.url()}`);
  }
  if (!(await inList(page, 'spam', c.held.id))) {
    fail(`comment ${c.held.id} is not in the spam folder after Check for Spam`);
  }
  if (!(await inList(page, 'moderated', c.spam.id))) {
    fail(`comment ${c.spam.id} (marked not spam) left the pending list after Check for Spam`);
  }
  await screenshot(page, 'admin-spam-folder-after-check-for-spam');
}

// greyflux now runs with akismet.usage_limit below this month's usage: its replies carry
// Akismet's X-akismet-alert-* headers and the plugin shows its usage-limit notice.
async function usageLimitAlerts(page) {
  const want = 'Your Akismet account usage is over your plan';
  const found = {};
  await page.goto(`${url}/wp-admin/edit-comments.php`);
  await screenshot(page, 'admin-comments-usage-limit-alert');
  found.comments = (await page.locator('.akismet-usage-limit-alert').allTextContents()).join(' ');
  await page.goto(`${url}/wp-admin/options-general.php?page=akismet-key-config`);
  await screenshot(page, 'akismet-settings-usage-limit-alert');
  found.settings = (await page.locator('.akismet-usage-limit-alert').allTextContents()).join(' ');
  // Not the plugin's site-count notice (get-subscription's limit_reached): greyflux's limit
  // counts API calls, not sites.
  const settingsBody = await bodyText(page);
  if (/more sites than|far too many sites/.test(settingsBody)) {
    fail('the settings page claims the key is used on too many sites');
  }
  for (const [where, text] of Object.entries(found)) {
    if (!text.includes(want) || !/made [\d,]+ API calls/.test(text)) {
      fail(`no usage-limit notice on the ${where} page: "${text.trim().slice(0, 300)}"`);
    }
  }
  return found;
}

// The owner deactivates the Akismet plugin: it calls /1.1/deactivate with its key.
async function deactivatePlugin(page) {
  await page.goto(`${url}/wp-admin/plugins.php`);
  await screenshot(page, 'admin-plugins-before-deactivate');
  const href = await page.locator('tr[data-plugin="akismet/akismet.php"] span.deactivate a').first()
    .getAttribute('href');
  if (!href) {
    fail('no Deactivate link for Akismet on plugins.php');
  }
  await page.goto(new URL(href, `${url}/wp-admin/`).toString());
  await screenshot(page, 'admin-akismet-deactivated');
  if (!(await bodyText(page)).includes('Plugin deactivated')) {
    fail('plugins.php does not say "Plugin deactivated"');
  }
}

async function main() {
  fs.mkdirSync(art, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
  });
  const out = { comments: {} };
  try {
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    await page.goto(`${url}/wp-login.php`);
    await page.fill('#user_login', admin);
    await page.fill('#user_pass', password);
    await Promise.all([page.waitForNavigation(), page.click('#wp-submit')]);
    await screenshot(page, 'admin-logged-in');
    out.settings = await enterKey(page);

    const postUrl = `${url}/?p=1`;
    const c = out.comments;
    c.ham = await visitorComment(browser, postUrl, { name: 'Ann Baker', email: 'ann@mail.example' },
      texts.ham, 'visitor-normal-comment-published');
    if (!c.ham.visible) {
      fail(`the normal comment ${c.ham.id} is not shown on the post`);
    }
    c.spam = await visitorComment(browser, postUrl,
      { name: 'Cheap Meds', email: 'deals@pills-discount.example' }, texts.spam,
      'visitor-spam-comment-sent');
    if (c.spam.visible) {
      fail(`the spam comment ${c.spam.id} is shown on the post`);
    }
    if (!(await inList(page, 'spam', c.spam.id))) {
      fail(`the spam comment ${c.spam.id} is not in the spam folder`);
    }
    await screenshot(page, 'admin-spam-folder');

    await rowAction(page, 'approved', c.ham.id, 'spam', 'admin-marked-published-as-spam');
    await rowAction(page, 'spam', c.spam.id, 'unspam', 'admin-marked-spam-as-not-spam');

    c.hamAgain = await visitorComment(browser, postUrl,
      { name: 'Bea Copy', email: 'bea@mail.example' }, texts.ham, 'later-same-text-as-reported-spam');
    c.spamAgain = await visitorComment(browser, postUrl,
      { name: 'Carl Copy', email: 'carl@mail.example' }, texts.spam, 'later-same-text-as-reported-ham');
    if (!(await inList(page, 'spam', c.hamAgain.id))) {
      fail(`comment ${c.hamAgain.id} (text reported as spam) is not in the spam folder`);
    }
    await screenshot(page, 'admin-spam-folder-after-feedback');
    if (!(await inList(page, 'all', c.spamAgain.id))) {
      fail(`comment ${c.spamAgain.id} (text reported as ham) is not in the comment list`);
    }
    await screenshot(page, 'admin-all-comments-after-feedback');

    await heldThenCheckForSpam(browser, page, postUrl, c);
    out.alerts = await usageLimitAlerts(page);
    await deactivatePlugin(page);
    await ctx.close();
  } catch (e) {
    if (shooter.last()) {
      await screenshot(shooter.last(), 'FAILED').catch(() => {});
    }
    throw e;
  } finally {
    out.screenshots = shots;
    process.stdout.write(JSON.stringify(out) + '\n');
    ask.close();
    await browser.close();
  }
}

main().catch((e) => {
  process.stderr.write(`browser.js: ${e.stack || e}\n`);
  process.exit(1);
});
