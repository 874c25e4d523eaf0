// The dashboard's shell: log in, then a page per hash route (#/overview, #/history,
// #/greylist, #/flux, #/flux/NAME). Each page module exports render(main, arg) and may return
// a cleanup function (timers). Errors from the API are shown in the alert region at the top.
import { h, clear } from './dom.js';
import * as api from './api.js';
import * as overview from './overview.js';
import * as history from './history.js';
import * as greylist from './greylist.js';
import * as flux from './flux.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const logoutButton = document.getElementById('logout');
const errors = document.getElementById('errors');
let cleanup = null;
let generation = 0;

export function showError(e) {
  const msg = e instanceof Error ? e.message : String(e);
  for (const p of errors.children) {
    if (p.dataset.msg === msg) {
      return;  // already shown
    }
  }
  const close = h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss this error',
    onclick: () => p.remove() }, '×');
  const p = h('p', { dataset: { msg } }, h('span', {}, msg), ' ', close);
  errors.appendChild(p);
}
window.gfShowError = showError;

const pages = {
  overview: overview.render,
  history: history.render,
  greylist: greylist.render,
  flux: flux.render,
};

// "#/history?door=mail&limit=1000" -> { page: 'history', arg: null, params: {door, limit} }
function routeOf(hash) {
  const [route, search] = (hash || '').split('?', 2);
  const m = /^#\/([a-z]+)(?:\/(.*))?$/.exec(route);
  const params = Object.fromEntries(new URLSearchParams(search || ''));
  if (!m || !pages[m[1]]) {
    return { page: 'overview', arg: null, params };
  }
  return { page: m[1], arg: m[2] ? decodeURIComponent(m[2]) : null, params };
}

function renderLogin() {
  nav.hidden = true;
  logoutButton.hidden = true;
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off',
    required: true, spellcheck: 'false' });
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'login card', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Log in to greyflux'),
    h('p', { class: 'muted' }, 'Paste an admin token (', h('code', {}, 'greyflux admin-token create'),
      ' prints one).'),
    h('label', { for: 'token' }, 'Admin token'), input,
    h('button', { type: 'submit' }, 'Log in'), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = 'Logging in…';
    try {
      await api.login(input.value.trim());
      input.value = '';
      msg.textContent = '';
      if (location.hash.startsWith('#/')) {
        show();
      } else {
        location.hash = '#/overview';  // hashchange shows it
      }
    } catch (e) {
      msg.textContent = e.status === 401 ? 'That token is not valid.'
        : e.status === 429 ? 'Too many failed attempts: wait a minute and try again.'
          : e.message;
      msg.className = 'status bad';
      input.focus();
    }
  });
  clear(main).appendChild(form);
  input.focus();
}

async function show() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  if (!api.loggedIn()) {
    renderLogin();
    return;
  }
  nav.hidden = false;
  logoutButton.hidden = false;
  const { page, arg, params } = routeOf(location.hash);
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${page}`) {
      a.setAttribute('aria-current', 'page');
    } else {
      a.removeAttribute('aria-current');
    }
  }
  clear(main);
  delete main.dataset.rendered;
  document.title = `greyflux — ${page}`;
  try {
    const gen = ++generation;
    const r = await pages[page](main, arg, params);
    if (gen !== generation) {  // the reader moved on while this page loaded
      if (typeof r === 'function') {
        r();
      }
      return;
    }
    cleanup = typeof r === 'function' ? r : null;
    // For the browser tests and the first-render measurement (docs/ui.md).
    performance.mark(`gf:rendered:${page}`);
    main.dataset.rendered = page;
  } catch (e) {
    showError(e);
  }
}

logoutButton.addEventListener('click', async () => {
  try {
    await api.logout();
  } catch (e) {
    showError(e);
  }
  show();
});

api.setLoggedOutHandler(() => {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  renderLogin();
});

window.addEventListener('hashchange', () => {
  if (location.hash.startsWith('#/')) {
    show();
    main.focus();
  }
});

window.addEventListener('unhandledrejection', (ev) => {
  showError(ev.reason);
});

(async () => {
  try {
    await api.restore();
  } catch (e) {
    showError(e);
  }
  show();
})();
