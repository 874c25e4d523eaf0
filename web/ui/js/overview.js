// Overview: decisions per minute for each front door over the last hour, day or week
// (GET /api/v1/stats/series), and the daemon's health (GET /api/v1/status). Refreshes every
// kRefreshMs while the tab is visible.
import { h, clear, fmtDuration, fmtTime, fmtValue } from './dom.js';
import { api } from './api.js';
import { lineChart } from './charts.js';

export const kRefreshMs = 10000;

const kGroups = [
  { title: 'Greylist', names: ['greylist.defer', 'greylist.pass', 'greylist.whitelisted',
    'greylist.flux_agent'] },
  { title: 'Comments', names: ['comments.spam', 'comments.ham'] },
  { title: 'Mail', names: ['mail.spam', 'mail.ham', 'mail.rejected'] },
  { title: 'Fast flux', names: ['flux.flagged'] },
];
const kRanges = [['hour', 'Last hour'], ['day', 'Last day'], ['week', 'Last week']];

let range = 'hour';

function rangeTabs(onPick) {
  const group = h('div', { class: 'tabs', role: 'group', 'aria-label': 'Time range' });
  for (const [key, label] of kRanges) {
    group.appendChild(h('button', { type: 'button', 'aria-pressed': String(key === range),
      dataset: { range: key }, onclick: () => onPick(key) }, label));
  }
  return group;
}

// doors: true = listening, false = configured but not listening, null = not configured.
function doorText(on) {
  return on === true ? 'listening' : on === false ? 'NOT listening' : 'off';
}

function statusCards(s) {
  const store = s.store || null;
  const doors = s.doors || {};
  const failOpen = s.fail_open || {};
  const failTotal = Object.values(failOpen).reduce((a, v) => a + (Number(v) || 0), 0);
  const card = (title, body, kind = '') => h('section', { class: `card stat ${kind}`,
    'aria-label': title }, h('h2', {}, title), body);
  const cards = [
    card('Version', h('p', { class: 'big' }, s.version ?? '—')),
    card('Uptime', h('p', { class: 'big' }, fmtDuration(s.uptime_s)),
      h('p', { class: 'muted' }, `since ${fmtTime(s.started)}`)),
    store ? card('Store', h('div', {},
      h('p', { class: 'big' }, store.healthy ? 'healthy' : 'unhealthy'),
      h('p', { class: 'muted' }, `${store.backend ?? '?'} · ${store.errors ?? 0} errors`),
      store.problem ? h('p', { class: 'status bad' }, store.problem) : null),
    store.healthy ? 'good' : 'bad') : card('Store', h('p', { class: 'muted' }, 'no greylist store')),
    card('Fail-open', h('div', {},
      h('p', { class: 'big' }, String(failTotal)),
      h('p', { class: 'muted' }, Object.entries(failOpen).filter(([, v]) => v !== null)
        .map(([k, v]) => `${k}: ${v}`).join(', ') || 'none')),
    failTotal > 0 ? 'warn' : ''),
    card('Front doors', h('ul', { class: 'doors' }, Object.entries(doors).map(([name, on]) =>
      h('li', { class: on === true ? 'on' : on === false ? 'down' : 'off' }, `${name}: ${doorText(on)}`))),
    Object.values(doors).includes(false) ? 'bad' : ''),
  ];
  if (s.flux) {
    cards.push(card('Fast flux', h('div', {},
      h('p', { class: 'big' }, `${s.flux.flagged ?? 0} flagged`),
      h('p', { class: 'muted' }, `${s.flux.names_tracked ?? 0} names tracked · ` +
        `${s.flux.observations ?? 0} observations`))));
  }
  return h('div', { class: 'stats', id: 'status' }, cards);
}

function chartsFor(data) {
  const step = Number(data.step_s) || 60;
  const series = data.series || {};
  const len = Math.max(0, ...Object.values(series).map((v) => v.length));
  const end = Number(data.end) || Math.floor(Date.now() / 1000);
  // `end` closes the last (current) step; each count is plotted at its step's start.
  const times = Array.from({ length: len }, (_, i) => end - (len - i) * step);
  const perMinute = 60 / step;
  return kGroups.map((g) => lineChart({
    title: `${g.title}: decisions per minute`,
    unit: `${step} s steps`,
    times,
    series: g.names.map((name) => ({
      label: name.split('.')[1].replace('_', ' '),
      values: (series[name] || []).map((v) => (v === null ? null : Number(v) * perMinute)),
      missing: !(name in series),
    })),
  }));
}

export async function render(main) {
  const statusBox = h('div', { 'aria-live': 'off' });
  const chartsBox = h('div', { class: 'charts' });
  const updated = h('p', { class: 'muted', role: 'status', id: 'updated' });
  let timer = null;
  let busy = false;

  async function refresh() {
    if (busy) {
      return;
    }
    busy = true;
    try {
      const [st, se] = await Promise.allSettled([api('GET', 'status'),
        api('GET', `stats/series?range=${range}`)]);
      if (st.status === 'fulfilled') {
        clear(statusBox).appendChild(statusCards(st.value));
      } else {
        clear(statusBox).appendChild(h('p', { class: 'status bad' }, st.reason.message));
      }
      if (se.status === 'fulfilled') {
        chartsBox.replaceChildren(...chartsFor(se.value));
        chartsBox.dataset.loaded = range;
      } else {
        clear(chartsBox).appendChild(h('p', { class: 'status bad' }, se.reason.message));
        delete chartsBox.dataset.loaded;
      }
      updated.textContent = `Updated ${fmtTime(Date.now() / 1000)}; refreshes every ${kRefreshMs / 1000} s.`;
    } finally {
      busy = false;
    }
  }

  const tabs = rangeTabs((key) => {
    range = key;
    for (const b of tabs.querySelectorAll('button')) {
      b.setAttribute('aria-pressed', String(b.dataset.range === range));
    }
    refresh();
  });
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Overview'), tabs), updated, statusBox,
    chartsBox);
  await refresh();
  const schedule = () => {
    clearInterval(timer);
    timer = document.hidden ? null : setInterval(refresh, kRefreshMs);
  };
  const onVisibility = () => {
    if (!document.hidden) {
      refresh();
    }
    schedule();
  };
  document.addEventListener('visibilitychange', onVisibility);
  schedule();
  return () => {
    clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}
