// Preloaded with `node --require`: resolves every name under GREYFLUX_TEST_DOMAIN (default
// "greyflux.test"), such as "<key>.greyflux.test", to 127.0.0.1, so the Akismet clients can use
// their usual "<key>.<host>" URLs against greyflux on loopback. Other names resolve as usual.
'use strict';
const dns = require('dns');
const domain = (process.env.GREYFLUX_TEST_DOMAIN || 'greyflux.test').toLowerCase();
const original = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  const name = String(hostname).toLowerCase();
  if (name === domain || name.endsWith('.' + domain)) {
    const all = typeof options === 'object' && options !== null && options.all;
    process.nextTick(() => {
      if (all) {
        callback(null, [{ address: '127.0.0.1', family: 4 }]);
      } else {
        callback(null, '127.0.0.1', 4);
      }
    });
    return {};
  }
  return original.call(dns, hostname, options, callback);
};
