// History: every front door's recent decisions, newest first (GET /api/v1/history), filtered by
// door, verdict, symbol, site, client and sender. A row expands to its reasons with weights.
// Comment and mail rows can be relearned as spam or not spam, one at a time or selected in bulk
// (POST /api/v1/history/learn), which retrains exactly as submit-spam/submit-ham or spamc TELL.
import { h, clear, fmtTime, fmtNumber } from './dom.js';
import { api, query } from './api.js';

const kDoors = [['', 'All'], ['greylist', 'Greylist'], ['comments', 'Comments'], ['mail', 'Mail'],
  ['flux', 'Fast flux']];
const kFields = [['verdict', 'Verdict'], ['symbol', 'Symbol'], ['site', 'Site'],
  ['client', 'Client'], ['sender', 'Sender']];
const kSizes = [100, 500, 1000];

let filters = { door: '', limit: 100 };

function filterForm(onSubmit) {
  const door = h('select', { id: 'f-door', name: 'door' }, kDoors.map(([v, l]) =>
    h('option', { value: v, selected: filters.door === v }, l)));
  const size = h('select', { id: 'f-limit', name: 'limit' }, kSizes.map((n) =>
    h('option', { value: n, selected: Number(filters.limit) === n }, String(n))));
  const inputs = kFields.map(([k, label]) => h('div', { class: 'field' },
    h('label', { for: `f-${k}` }, label),
    h('input', { id: `f-${k}`, name: k, type: 'search', value: filters[k] || '' })));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter history' },
    h('div', { class: 'field' }, h('label', { for: 'f-door' }, 'Front door'), door),
    inputs,
    h('div', { class: 'field' }, h('label', { for: 'f-limit' }, 'Rows'), size),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    filters = Object.fromEntries(new FormData(form).entries());
    onSubmit();
  });
  return form;
}

function learnedText(row) {
  return row.learned === 'spam' ? 'learned as spam' : row.learned === 'ham' ? 'learned as not spam' : '';
}

function reasonsTable(row) {
  const reasons = row.reasons || [];
  if (reasons.length === 0) {
    return h('p', { class: 'muted' }, 'No reasons recorded.');
  }
  return h('table', { class: 'reasons' },
    h('caption', {}, `Reasons for ${row.door} decision ${row.id}`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Symbol'), h('th', { scope: 'col', class: 'num' }, 'Weight'))),
    h('tbody', {}, reasons.map((r) => h('tr', {}, h('td', {}, h('code', {}, r.symbol)),
      h('td', { class: 'num' }, fmtNumber(r.weight))))));
}

export async function render(main, _arg, params) {
  if (params && Object.keys(params).length) {  // #/history?door=mail&limit=1000
    filters = { door: '', limit: 100, ...params };
  }
  const rows = new Map();  // id -> row
  const selected = new Set();
  const tbody = h('tbody', {});
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', hidden: true }, 'Load older');
  const count = h('span', { id: 'selected-count' }, '0 selected');
  const bulkSpam = h('button', { type: 'button', disabled: true, dataset: { bulk: 'spam' } }, 'Mark selected spam');
  const bulkHam = h('button', { type: 'button', disabled: true, dataset: { bulk: 'ham' } }, 'Mark selected not spam');
  const all = h('input', { type: 'checkbox', id: 'select-all' });
  let next = null;

  function updateBulk() {
    count.textContent = `${selected.size} selected`;
    bulkSpam.disabled = bulkHam.disabled = selected.size === 0;
  }

  function rowElements(row) {
    const detailsId = `reasons-${row.id}`;
    const tr = h('tr', { dataset: { id: row.id, door: row.door, verdict: row.verdict } });
    const detail = h('tr', { class: 'detail', id: detailsId, hidden: true },
      h('td', { colspan: 8 }));
    const expand = h('button', { type: 'button', class: 'expand', 'aria-expanded': 'false',
      'aria-controls': detailsId, 'aria-label': `Reasons for decision ${row.id}` }, '▸');
    expand.addEventListener('click', () => {
      const open = expand.getAttribute('aria-expanded') !== 'true';
      expand.setAttribute('aria-expanded', String(open));
      expand.textContent = open ? '▾' : '▸';
      if (open && !detail.firstChild.firstChild) {
        detail.firstChild.appendChild(reasonsTable(row));
      }
      detail.hidden = !open;
    });
    const check = row.learnable ? h('input', { type: 'checkbox', class: 'pick',
      'aria-label': `Select decision ${row.id}`, checked: selected.has(row.id) }) : null;
    if (check) {
      check.rowId = row.id;
      check.addEventListener('change', () => {
        if (check.checked) {
          selected.add(row.id);
        } else {
          selected.delete(row.id);
        }
        updateBulk();
      });
    }
    const actions = row.learnable ? [
      h('button', { type: 'button', class: 'small', dataset: { learn: 'spam' },
        onclick: () => learn([row.id], 'spam') }, 'spam'),
      h('button', { type: 'button', class: 'small', dataset: { learn: 'ham' },
        onclick: () => learn([row.id], 'ham') }, 'not spam')] : [];
    const who = [row.client, row.sender, row.site].filter((x) => x).join(' · ');
    tr.append(
      h('td', {}, check),
      h('td', {}, expand),
      h('td', { class: 'nowrap' }, fmtTime(row.t)),
      h('td', {}, row.door),
      h('td', {}, h('span', { class: `verdict v-${row.verdict}` }, row.verdict),
        row.score !== undefined && row.score !== null ? h('span', { class: 'muted' }, ` ${fmtNumber(row.score)}`) : null),
      h('td', { class: 'summary' }, row.summary || ''),
      h('td', { class: 'who' }, who),
      h('td', { class: 'actions' }, h('span', { class: 'learned' }, learnedText(row)), actions));
    return [tr, detail];
  }

  function addRows(list) {
    const frag = document.createDocumentFragment();
    for (const row of list) {
      rows.set(row.id, row);
      frag.append(...rowElements(row));
    }
    tbody.appendChild(frag);
  }

  async function load(reset) {
    if (reset) {
      rows.clear();
      selected.clear();
      clear(tbody);
      next = null;
      all.checked = false;
      updateBulk();
    }
    msg.textContent = 'Loading…';
    msg.className = 'status';
    try {
      const r = await api('GET', `history${query({ ...filters, before: reset ? null : next })}`);
      addRows(r.rows || []);
      next = r.next ?? null;
      more.hidden = next === null;
      msg.textContent = `${rows.size} decisions shown${next === null ? '' : ' (older ones: Load older)'}.`;
      main.dataset.rows = String(rows.size);
    } catch (e) {
      msg.textContent = e.message;
      msg.className = 'status bad';
    }
  }

  async function learn(ids, cls) {
    msg.textContent = `Learning ${ids.length} as ${cls === 'spam' ? 'spam' : 'not spam'}…`;
    msg.className = 'status';
    try {
      const r = await api('POST', 'history/learn', { ids, class: cls });
      // "already_learned": the model had it as this class already; the row is marked all the same.
      const skipped = new Map((r.skipped || []).filter((s) => s.reason !== 'already_learned')
        .map((s) => [s.id, s.reason]));
      const already = (r.skipped || []).length - skipped.size;
      for (const id of ids) {
        const row = rows.get(id);
        if (row && !skipped.has(id)) {
          row.learned = cls;
          const tr = tbody.querySelector(`tr[data-id="${CSS.escape(String(id))}"] .learned`);
          if (tr) {
            tr.textContent = learnedText(row);
          }
        }
      }
      msg.textContent = `Learned ${r.learned} as ${cls === 'spam' ? 'spam' : 'not spam'}` +
        (already ? `; ${already} already learned as that` : '') +
        (skipped.size ? `; skipped ${[...skipped].map(([id, why]) => `${id} (${why})`).join(', ')}` : '') + '.';
      msg.className = skipped.size ? 'status warn' : 'status good';
    } catch (e) {
      msg.textContent = e.message;
      msg.className = 'status bad';
    }
  }

  all.addEventListener('change', () => {
    for (const box of tbody.querySelectorAll('input.pick')) {
      box.checked = all.checked;
      if (all.checked) {
        selected.add(box.rowId);
      } else {
        selected.delete(box.rowId);
      }
    }
    updateBulk();
  });
  for (const b of [bulkSpam, bulkHam]) {
    b.addEventListener('click', () => learn([...selected], b.dataset.bulk));
  }
  more.addEventListener('click', () => load(false));

  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'History')),
    filterForm(() => load(true)),
    h('div', { class: 'bulk', role: 'group', 'aria-label': 'Selected rows' },
      h('label', { class: 'check' }, all, ' Select all shown'), count, bulkSpam, bulkHam),
    msg,
    h('div', { class: 'table-wrap' }, h('table', { class: 'history' },
      h('caption', { class: 'sr-only' }, 'Decisions, newest first'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Select')),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Reasons')),
        h('th', { scope: 'col' }, 'Time'), h('th', { scope: 'col' }, 'Door'),
        h('th', { scope: 'col' }, 'Verdict'), h('th', { scope: 'col' }, 'Summary'),
        h('th', { scope: 'col' }, 'Client · sender · site'),
        h('th', { scope: 'col' }, 'Relearn'))),
      tbody)),
    more);
  await load(true);
}
