// What the browser tests (ui/browser.js, wordpress/browser.js) share: numbered screenshots of
// every step, and the GF-ASK handshake with their Python driver, which acts on greyflux mid-way
// (prints "GF-ASK <what>" on stdout and waits for "ok", or a reason, on stdin).
'use strict';
const path = require('path');
const readline = require('readline');

// Full-page screenshots numbered 01-name.png, 02-..., in `art`. `files` lists those taken;
// `last()` is the page of the latest, for a screenshot of the page a step failed on.
function screenshots(art) {
  const files = [];
  let n = 0;
  let lastPage = null;
  async function take(page, name) {
    lastPage = page;
    n += 1;
    const file = path.join(art, `${String(n).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    files.push(file);
  }
  return { take, files, last: () => lastPage };
}

// ask(what): a promise resolved when the driver answers "ok", rejected with its other answer.
// ask.close() stops reading stdin (so that node can exit).
function asker() {
  const lines = readline.createInterface({ input: process.stdin });
  const answers = [];
  let waiting = null;
  lines.on('line', (line) => {
    if (waiting) {
      const w = waiting;
      waiting = null;
      w(line);
    } else {
      answers.push(line);
    }
  });
  function ask(what) {
    process.stdout.write(`GF-ASK ${what}\n`);
    return new Promise((resolve, reject) => {
      const done = (line) => (line === 'ok' ? resolve() : reject(new Error(`${what}: ${line}`)));
      if (answers.length > 0) {
        done(answers.shift());
      } else {
        waiting = done;
      }
    });
  }
  ask.close = () => lines.close();
  return ask;
}

function fail(msg) {
  throw new Error(msg);
}

module.exports = { screenshots, asker, fail };
