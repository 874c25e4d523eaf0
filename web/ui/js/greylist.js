// Greylist: search triplets and auto-whitelist entries by client, sender and recipient
// (GET /api/v1/greylist), delete one by its key (DELETE /api/v1/greylist {key}), and the
// whitelist: list, add, remove (GET|POST|DELETE /api/v1/whitelist {list, entry}).
import { h, clear, fmtTime, fmtNumber } from './dom.js';
import { api, query } from './api.js';

let search = {};

const kGroups = [
  ['Triplets', (e) => e.kind === 'triplet'],
  ['Auto-whitelist', (e) => e.kind === 'client-awl' || e.kind === 'domain-awl'],
  ['Other records (senders seen, pooled senders)', (e) => e.kind === 'sender-seen' || e.kind === 'pooled'],
];
const kColumns = [
  ['kind', 'Kind', (e) => e.kind],
  ['network', 'Client network', (e) => e.network || '—'],
  ['sender', 'Sender', (e) => e.sender || e.domain || '—'],
  ['recipient', 'Recipient', (e) => e.recipient || '—'],
  ['first_seen', 'First seen', (e) => fmtTime(e.first_seen)],
  ['last_seen', 'Last seen', (e) => fmtTime(e.last_seen)],
  ['count', 'Count', (e) => fmtNumber(e.count)],
  ['state', 'State', (e) => e.state || '—'],
];

function describe(e) {
  return [e.kind, e.network, e.sender || e.domain, e.recipient].filter((x) => x).join(' ');
}

function entryTable(caption, entries, onDelete) {
  if (entries.length === 0) {
    return h('p', { class: 'muted' }, `${caption}: none match.`);
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'greylist' },
    h('caption', {}, `${caption} (${entries.length})`),
    h('thead', {}, h('tr', {}, kColumns.map(([, label]) => h('th', { scope: 'col' }, label)),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    h('tbody', {}, entries.map((e) => h('tr', {}, kColumns.map(([, , get]) => h('td', {}, get(e))),
      h('td', {}, h('button', { type: 'button', class: 'small danger',
        'aria-label': `Delete ${describe(e)}`, onclick: () => onDelete(e) }, 'Delete')))))));
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
      const r = await api('GET', `greylist${query({ ...search, limit: 500 })}`);
      const entries = r.entries || [];
      clear(results).append(...kGroups.map(([caption, pick]) => entryTable(caption,
        entries.filter(pick), (e) => remove('greylist', { key: e.key }, describe(e)))));
      if (r.truncated) {
        results.appendChild(h('p', { class: 'muted' }, 'More entries match: narrow the search.'));
      }
    } catch (e) {
      clear(results).appendChild(h('p', { class: 'status bad' }, e.message));
    }
  }

  async function loadWhitelist() {
    const value = h('input', { id: 'w-entry', name: 'entry', required: true });
    const list = h('select', { id: 'w-list', name: 'list' },
      h('option', { value: 'client' }, 'client: address, network or host name'),
      h('option', { value: 'recipient' }, 'recipient: address, user@ or domain'));
    const add = h('form', { class: 'filters', 'aria-label': 'Add a whitelist entry' },
      h('div', { class: 'field' }, h('label', { for: 'w-list' }, 'List'), list),
      h('div', { class: 'field' }, h('label', { for: 'w-entry' }, 'Entry'), value),
      h('button', { type: 'submit' }, 'Add to whitelist'));
    add.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const entry = value.value.trim();
      try {
        await api('POST', 'whitelist', { list: list.value, entry });
        say(`Added ${entry} to the ${list.value} whitelist.`, 'good');
        loadWhitelist();
      } catch (e) {
        say(e.message, 'bad');
      }
    });
    let table;
    try {
      const r = await api('GET', 'whitelist');
      const entries = r.entries || [];
      table = entries.length === 0 ? h('p', { class: 'muted' }, 'The whitelist is empty.')
        : h('div', { class: 'table-wrap' }, h('table', { class: 'whitelist' },
          h('caption', {}, `Whitelist entries (${entries.length})`),
          h('thead', {}, h('tr', {}, ['List', 'Entry', 'Source'].map((c) => h('th', { scope: 'col' }, c)),
            h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
          h('tbody', {}, entries.map((e) => h('tr', {}, h('td', {}, e.list), h('td', {}, e.entry),
            h('td', {}, e.source === 'file' ? 'file (edit the file)' : e.source),
            h('td', {}, e.source === 'admin' ? h('button', { type: 'button', class: 'small danger',
              'aria-label': `Remove ${e.entry} from the ${e.list} whitelist`,
              onclick: () => remove('whitelist', { list: e.list, entry: e.entry }, e.entry) }, 'Remove') : null))))));
    } catch (e) {
      table = h('p', { class: 'status bad' }, e.message);
    }
    clear(wl).append(h('h2', {}, 'Whitelist'), add, table);
  }

  async function remove(what, body, label) {
    try {
      await api('DELETE', what, body);
      say(`Deleted ${label}.`, 'good');
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
