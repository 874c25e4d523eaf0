// Greylist: search triplets and auto-whitelist entries by client, sender and recipient
// (GET /api/v1/greylist), delete one (DELETE /api/v1/greylist), and the whitelist: list, add,
// remove (GET|POST|DELETE /api/v1/whitelist).
import { h, clear, fmtTime, fmtValue } from './dom.js';
import { api, query } from './api.js';

let search = {};

function cell(v, key) {
  return /(^t$|_at$|first|last|seen|expires|created)/.test(key) && typeof v === 'number'
    ? fmtTime(v) : fmtValue(v);
}

// A table of objects of any shape: one column per key of the first row, a Delete button each.
function entryTable(caption, entries, onDelete) {
  if (entries.length === 0) {
    return h('p', { class: 'muted' }, `No ${caption.toLowerCase()}.`);
  }
  const keys = Object.keys(entries[0]);
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, keys.map((k) => h('th', { scope: 'col' }, k.replaceAll('_', ' '))),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    h('tbody', {}, entries.map((e) => h('tr', {}, keys.map((k) => h('td', {}, cell(e[k], k))),
      h('td', {}, h('button', { type: 'button', class: 'small danger',
        'aria-label': `Delete ${keys.map((k) => e[k]).filter((x) => typeof x === 'string').join(' ')}`,
        onclick: () => onDelete(e) }, 'Delete')))))));
}

export async function render(main) {
  const results = h('section', { 'aria-label': 'Greylist entries', id: 'greylist-results' });
  const wl = h('section', { 'aria-label': 'Whitelist', id: 'whitelist' });
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const fields = [['client', 'Client address'], ['sender', 'Sender'], ['recipient', 'Recipient']];
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Search the greylist' },
    fields.map(([k, label]) => h('div', { class: 'field' }, h('label', { for: `g-${k}` }, label),
      h('input', { id: `g-${k}`, name: k, type: 'search', value: search[k] || '' }))),
    h('button', { type: 'submit' }, 'Search'));

  const say = (text, kind = '') => {
    msg.textContent = text;
    msg.className = `status ${kind}`;
  };

  async function find() {
    try {
      const r = await api('GET', `greylist${query({ ...search, limit: 200 })}`);
      clear(results).append(
        entryTable('Triplets', r.triplets || [], (e) => remove('greylist', e)),
        entryTable('Auto-whitelisted clients', r.awl || [], (e) => remove('greylist', e)));
    } catch (e) {
      clear(results).appendChild(h('p', { class: 'status bad' }, e.message));
    }
  }

  async function loadWhitelist() {
    const value = h('input', { id: 'w-value', name: 'value', required: true });
    const kind = h('select', { id: 'w-kind', name: 'kind' },
      h('option', { value: 'client' }, 'client (address, network or host name)'),
      h('option', { value: 'recipient' }, 'recipient (address or domain)'));
    const add = h('form', { class: 'filters', 'aria-label': 'Add a whitelist entry' },
      h('div', { class: 'field' }, h('label', { for: 'w-kind' }, 'Kind'), kind),
      h('div', { class: 'field' }, h('label', { for: 'w-value' }, 'Entry'), value),
      h('button', { type: 'submit' }, 'Add to whitelist'));
    add.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', 'whitelist', { kind: kind.value, value: value.value.trim() });
        say(`Added ${value.value.trim()} to the whitelist.`, 'good');
        loadWhitelist();
      } catch (e) {
        say(e.message, 'bad');
      }
    });
    let list;
    try {
      const r = await api('GET', 'whitelist');
      list = entryTable('Whitelist entries', r.entries || [], (e) => remove('whitelist', e));
    } catch (e) {
      list = h('p', { class: 'status bad' }, e.message);
    }
    clear(wl).append(h('h2', {}, 'Whitelist'), add, list);
  }

  async function remove(what, entry) {
    try {
      await api('DELETE', what, entry);
      say(`Deleted ${fmtValue(entry)}.`, 'good');
      if (what === 'greylist') {
        find();
      } else {
        loadWhitelist();
      }
    } catch (e) {
      say(e.message, 'bad');
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    search = Object.fromEntries(new FormData(form).entries());
    find();
  });
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Greylist')), form, msg, results, wl);
  await Promise.all([find(), loadWhitelist()]);
}
