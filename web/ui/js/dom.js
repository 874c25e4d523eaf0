// Small DOM helpers: build elements without innerHTML (no markup from data ever reaches the
// parser), format times and numbers.

// h('a', {href: '#/x', class: 'c', onclick: fn}, 'text', child, [more children])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) {
      continue;
    }
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = v;
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) {
      continue;
    }
    if (Array.isArray(c)) {
      append(el, c);
    } else if (c instanceof Node) {
      el.appendChild(c);
    } else {
      el.appendChild(document.createTextNode(String(c)));
    }
  }
}

const kSvgNs = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(kSvgNs, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) {
      el.setAttribute(k, String(v));
    }
  }
  for (const c of children) {
    if (c instanceof Node) {
      el.appendChild(c);
    } else if (c !== undefined && c !== null) {
      el.appendChild(document.createTextNode(String(c)));
    }
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) {
    el.removeChild(el.firstChild);
  }
  return el;
}

const pad = (n) => String(n).padStart(2, '0');

// Unix seconds -> "2026-12-06 15:04:05" in the browser's time zone.
export function fmtTime(t) {
  if (t === undefined || t === null || t === '') {
    return '—';
  }
  const d = new Date(Number(t) * 1000);
  if (Number.isNaN(d.getTime())) {
    return String(t);
  }
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
         `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtDuration(s) {
  s = Math.max(0, Math.floor(Number(s) || 0));
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  if (d > 0) {
    return `${d}d ${hh}h ${mm}m`;
  }
  if (hh > 0) {
    return `${hh}h ${mm}m`;
  }
  return `${mm}m ${s % 60}s`;
}

export function fmtNumber(x, digits = 2) {
  if (x === undefined || x === null || x === '') {
    return '—';
  }
  const n = Number(x);
  if (!Number.isFinite(n)) {
    return String(x);
  }
  return Number.isInteger(n) ? n.toLocaleString('en') : n.toFixed(digits);
}

// A value of unknown shape as text: objects as "k: v, k: v".
export function fmtValue(v) {
  if (v === null || v === undefined) {
    return '—';
  }
  if (Array.isArray(v)) {
    return v.map(fmtValue).join(', ');
  }
  if (typeof v === 'object') {
    return Object.entries(v).map(([k, x]) => `${k}: ${fmtValue(x)}`).join(', ');
  }
  if (typeof v === 'number') {
    return fmtNumber(v);
  }
  return String(v);
}

// A status line that screen readers announce.
export function status(text, kind = '') {
  return h('p', { class: `status ${kind}`, role: 'status' }, text);
}
