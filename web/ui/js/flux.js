// Fast flux: the flagged names ranked with their evidence (GET /api/v1/flux), and a name's page
// (#/flux/NAME): its verdict and features (GET /api/v1/flux/NAME), the churn that makes it flux
// as charts of distinct addresses, networks and TTLs over time (GET /api/v1/flux/NAME/series),
// its flux network (names sharing agents) and the RPZ line it produced.
import { h, fmtTime, fmtNumber, fmtValue } from './dom.js';
import { api, query } from './api.js';
import { lineChart } from './charts.js';

const nameHref = (name) => `#/flux/${encodeURIComponent(name)}`;

const plural = (n, one, many = `${one}s`) => `${fmtNumber(n)} ${Number(n) === 1 ? one : many}`;

// The composite scorer's rules with their points ("slash24_spread +1.5, ...").
function rulesText(composite) {
  const rules = (composite && (composite.rules || composite.fired)) || [];
  return rules.map((r) => (typeof r === 'object'
    ? `${r.id} ${Number(r.points ?? r.weight) >= 0 ? '+' : ''}${fmtNumber(r.points ?? r.weight)}` : String(r)))
    .join(', ');
}

// A verdict's evidence in one line: the rules that fired and the churn behind them.
function evidenceText(ev) {
  if (!ev || typeof ev !== 'object') {
    return fmtValue(ev);
  }
  const f = ev.features || {};
  const parts = [];
  const rules = rulesText(ev.scores && ev.scores.composite);
  if (rules) {
    parts.push(rules);
  }
  if (f.unique_ips !== undefined) {
    parts.push(`${plural(f.unique_ips, 'address', 'addresses')} in ${plural(f.v4_slash24 + (f.v6_slash48 || 0), 'network')}, ` +
      `${plural(f.asns, ev.approximate ? 'network group' : 'ASN')}, median TTL ${fmtNumber(f.ttl_median_s)} s, ` +
      `${plural(f.responses, 'response')}`);
  }
  return parts.length ? parts.join(' · ') : fmtValue(ev);
}

async function renderList(main) {
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' }, 'Loading…');
  const tbody = h('tbody', {});
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Fast flux')),
    h('p', { class: 'muted' }, 'Names the detector flagged, highest score first.'), msg,
    h('div', { class: 'table-wrap' }, h('table', { class: 'flux' },
      h('caption', { class: 'sr-only' }, 'Flagged names, ranked'),
      h('thead', {}, h('tr', {}, ['#', 'Name', 'Score', 'Verdict', 'Last seen', 'Network', 'Evidence'].map((c) =>
        h('th', { scope: 'col' }, c)))), tbody)));
  let r;
  try {
    r = await api('GET', `flux${query({ limit: 200 })}`);
  } catch (e) {
    msg.textContent = e.message;
    msg.className = 'status bad';
    return;
  }
  const names = r.names || [];
  names.forEach((n, i) => tbody.appendChild(h('tr', {},
    h('td', { class: 'num' }, String(i + 1)),
    h('td', {}, h('a', { href: nameHref(n.name) }, n.name)),
    h('td', { class: 'num' }, fmtNumber(n.score)),
    h('td', {}, n.verdict === 'held' ? 'held (quiet now)' : (n.verdict ?? '')),
    h('td', { class: 'nowrap' }, fmtTime(n.last_seen)),
    h('td', { class: 'num' }, n.network_size > 1 ? `${n.network_size} names` : '—'),
    h('td', { class: 'evidence' }, evidenceText(n.evidence)))));
  const total = Number(r.total ?? names.length);
  msg.textContent = names.length === 0 ? 'No name is flagged as fast flux.'
    : `${plural(total, 'flagged name')}${total > names.length ? `, the ${names.length} highest shown` : ''}.`;
  main.dataset.rows = String(names.length);
}

function churnCharts(points) {
  const times = points.map((p) => Number(p.t));
  const col = (k) => points.map((p) => (p[k] === undefined ? null : p[k]));
  return [
    lineChart({ title: 'Distinct addresses, networks and ASNs seen', unit: 'cumulative', times,
      legend: 'last',
      series: [{ label: 'addresses', values: col('addresses') },
        { label: 'networks', values: col('networks') },
        { label: 'ASNs', values: col('asns') }] }),
    lineChart({ title: 'Answer TTLs', unit: 'seconds', times, legend: 'last',
      series: [{ label: 'min TTL', values: col('min_ttl') },
        { label: 'max TTL', values: col('max_ttl') }] }),
  ];
}

async function renderName(main, name) {
  const head = h('div', { class: 'page-head' }, h('h1', {}, h('span', { class: 'muted' }, 'Fast flux: '), name),
    h('a', { href: '#/flux' }, '← all flagged names'));
  const summary = h('section', { class: 'card', 'aria-label': 'Verdict' }, h('p', { class: 'muted' }, 'Loading…'));
  const churn = h('section', { class: 'charts', id: 'churn', 'aria-label': 'Churn over time' });
  const network = h('section', { class: 'card', 'aria-label': 'Flux network' });
  const rpz = h('section', { class: 'card', 'aria-label': 'RPZ entry' });
  main.append(head, summary, h('h2', {}, 'Churn'), churn, h('div', { class: 'two' }, network, rpz));
  const [info, series] = await Promise.allSettled([
    api('GET', `flux/${encodeURIComponent(name)}`),
    api('GET', `flux/${encodeURIComponent(name)}/series`)]);
  if (info.status === 'fulfilled') {
    const v = info.value;
    const f = v.features || {};
    const s = (v.scores && v.scores.composite) || {};
    summary.replaceChildren(
      h('h2', {}, v.flux ? 'Flagged as fast flux' : 'Not flagged'),
      h('dl', { class: 'kv' }, [
        ['score', fmtValue(s.score ?? v.score)], ['threshold', fmtValue(s.threshold)],
        ['rules', rulesText(s) || '—'],
        ['responses', fmtValue(f.responses)], ['distinct addresses', fmtValue(f.unique_ips)],
        ['/24 networks', fmtValue(f.v4_slash24)], ['ASNs', fmtValue(f.asns)],
        ['median TTL', f.ttl_median_s === undefined ? '—' : `${f.ttl_median_s} s`],
        ['first seen', fmtTime(f.first_seen)], ['last seen', fmtTime(f.last_seen)],
      ].flatMap(([k, x]) => [h('dt', {}, k), h('dd', {}, x)])));
    const net = v.network || [];
    network.replaceChildren(h('h2', {}, 'Flux network'),
      net.length ? h('ul', { class: 'names' }, net.map((n) => {
        const nn = typeof n === 'string' ? n : n.name;
        return h('li', {}, h('a', { href: nameHref(nn) }, nn),
          typeof n === 'object' && n.shared !== undefined ? h('span', { class: 'muted' }, ` (${n.shared} shared agents)`) : null);
      })) : h('p', { class: 'muted' }, 'No other name shares its agents.'));
    rpz.replaceChildren(h('h2', {}, 'RPZ entry'),
      v.rpz ? h('pre', { class: 'rpz' }, Array.isArray(v.rpz) ? v.rpz.join('\n') : v.rpz)
        : h('p', { class: 'muted' }, 'None: the name is not in the zone.'));
  } else {
    summary.replaceChildren(h('p', { class: 'status bad' }, info.reason.message));
  }
  if (series.status === 'fulfilled') {
    const points = series.value.points || [];
    churn.replaceChildren(...(points.length ? churnCharts(points)
      : [h('p', { class: 'muted' }, 'No churn recorded for this name yet.')]));
    churn.dataset.points = String(points.length);
  } else {
    churn.replaceChildren(h('p', { class: 'status bad' }, series.reason.message));
  }
}

export async function render(main, name) {
  if (name) {
    await renderName(main, name);
  } else {
    await renderList(main);
  }
}
