// The blog owner's and the visitors' side of the WordPress test, in headless Debian chromium
// driven by playwright-core. Saves a screenshot of every step in ART and prints one JSON object
// with the comment ids it made. The greyflux side is checked by wordpress_test.py.
//
// Usage: node browser.js   (settings in the environment: WP_URL, WP_ADMIN, WP_PASSWORD, GF_KEY,
//                           ART, NODE_PATH = the playwright-core install)
// Only 127.0.0.1 is ever contacted: every other request of the pages (gravatar, the plugin's
// akismet.com iframes, fonts) is aborted, and the resolver maps all other names to nothing.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

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

let shot = 0;
const shots = [];
async function screenshot(page, name) {
  shot += 1;
  const file = path.join(art, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}

function fail(msg) {
  throw new Error(msg);
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
  await screenshot(page, name);
  await ctx.close();
  return { id, visible: visible > 0 };
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
    await ctx.close();
  } finally {
    out.screenshots = shots;
    process.stdout.write(JSON.stringify(out) + '\n');
    await browser.close();
  }
}

main().catch((e) => {
  process.stderr.write(`browser.js: ${e.stack || e}\n`);
  process.exit(1);
});
