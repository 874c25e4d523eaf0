// Drives a real npm Akismet client against greyflux and prints one JSON object with what each
// call returned. Usage: node --require resolve_loader.js npm_clients.js CLIENT PORT KEY BADKEY
//   CLIENT: "akismet-api" (host + protocol options) or "akismet" (host + port options).
'use strict';
const [client, port, key, badKey] = process.argv.slice(2);
const host = 'greyflux.test';
const blog = 'https://blog.example';
const ham = {
  user_ip: '192.0.2.10',
  user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
  referrer: 'https://blog.example/2026/bread',
  permalink: 'https://blog.example/2026/bread',
  comment_type: 'comment',
  comment_author: 'Ann Baker',
  comment_author_email: 'ann@example.org',
  comment_content: 'I tried the rye version of this bread and it came out well, thank you.',
};
const spam = { ...ham, comment_author: 'viagra-test-123', user_ip: '198.51.100.7' };
const reported = {
  ...ham,
  user_ip: '203.0.113.99',
  comment_author: 'Cheap Pills',
  comment_author_email: 'seller@pills.example',
  comment_content: 'Best prices on pills at our shop, buy now and save a lot: ' + client,
};

async function viaAkismetApi() {
  const { AkismetClient } = require('akismet-api');
  const make = (k) => new AkismetClient({ key: k, blog, host: `${host}:${port}`, protocol: 'http' });
  const good = make(key);
  const out = {};
  out.verify_valid = await good.verifyKey();
  out.verify_invalid = await make(badKey).verifyKey();
  out.check_spam = await good.checkSpam(spam);
  out.check_ham = await good.checkSpam(ham);
  out.check_admin = await good.checkSpam({ ...spam, comment_author: 'Ann', user_role: 'administrator' });
  // akismet-api resolves submits with the HTTP response: report its status and body.
  const answer = (res) => ({ status: res.status, text: res.text });
  out.submit_spam = answer(await good.submitSpam(reported));
  out.submit_ham = answer(await good.submitHam(ham));
  out.check_reported = await good.checkSpam(reported);
  try {
    await make(badKey).checkSpam(ham);
    out.check_bad_key = 'no error';
  } catch (e) {
    out.check_bad_key = e.message;
  }
  return out;
}

function viaAkismet() {
  const akismet = require('akismet');
  const make = (k) => akismet.client({ apiKey: k, blog, host, port: Number(port) });
  const good = make(key);
  const call = (fn, ...args) =>
    new Promise((resolve, reject) =>
      fn(...args, (err, result) => (err ? reject(err) : resolve(result))));
  // Its submits call back with an error argument only (the answer's status and body are
  // dropped inside the library): report that argument as it came.
  const callbackError = (fn, ...args) =>
    new Promise((resolve) => fn(...args, (err) => resolve({ error: err ? String(err) : null })));
  return (async () => {
    const out = {};
    out.verify_valid = await call(good.verifyKey.bind(good));
    const bad = make(badKey);
    out.verify_invalid = await call(bad.verifyKey.bind(bad));
    out.check_spam = await call(good.checkComment.bind(good), { ...spam });
    out.check_ham = await call(good.checkComment.bind(good), { ...ham });
    out.check_admin = await call(good.checkComment.bind(good), {
      ...spam, comment_author: 'Ann', user_role: 'administrator' });
    out.submit_spam = await callbackError(good.submitSpam.bind(good), { ...reported });
    out.submit_ham = await callbackError(good.submitHam.bind(good), { ...ham });
    out.check_reported = await call(good.checkComment.bind(good), { ...reported });
    return out;
  })();
}

(client === 'akismet-api' ? viaAkismetApi() : viaAkismet())
  .then((out) => {
    console.log(JSON.stringify(out));
  })
  .catch((e) => {
    console.error(`${client}: ${e.stack || e}`);
    process.exit(1);
  });
