// The admin API client. Every call goes to this origin's /api/v1/ (the session cookie rides
// along); state-changing calls carry X-CSRF-Token. A failed call throws ApiError with the
// route, the HTTP status and greyflux's error code, so pages can say exactly what failed: a
// route this greyflux does not have shows as such, never as empty data.

let csrf = null;
let onLoggedOut = () => {};
const kHint = 'gf.session';  // a hint that a session cookie may exist (not a credential)

export class ApiError extends Error {
  constructor(method, path, status, code, message) {
    const what = code.startsWith('HTTP') || !status ? code : `${status} ${code}`;
    super(`${method} /api/v1/${path}: ${what}${message ? ` — ${message}` : ''}`);
    this.status = status;
    this.code = code;
  }
}

export function setLoggedOutHandler(fn) {
  onLoggedOut = fn;
}

export async function api(method, path, body) {
  const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) {
    opts.headers['X-CSRF-Token'] = csrf;
  }
  let res;
  try {
    res = await fetch(`/api/v1/${path}`, opts);
  } catch (e) {
    throw new ApiError(method, path, 0, 'unreachable', `greyflux did not answer (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const code = (data && data.error) || `HTTP ${res.status}`;
    let message = data && data.message;
    if (!message && res.status === 404 && !data) {
      message = 'this greyflux has no such API route';
    }
    if (!message && !data) {
      message = text.trim().slice(0, 200);
    }
    if (res.status === 401 && path !== 'login') {
      forget();
      onLoggedOut();
    }
    throw new ApiError(method, path, res.status, code, message);
  }
  if (data === null) {
    throw new ApiError(method, path, res.status, 'not JSON', text.trim().slice(0, 200));
  }
  return data;
}

function forget() {
  csrf = null;
  localStorage.removeItem(kHint);
}

export function loggedIn() {
  return csrf !== null;
}

export async function login(token) {
  const r = await api('POST', 'login', { token });
  if (typeof r.csrf !== 'string' || r.csrf === '') {
    throw new ApiError('POST', 'login', 200, 'bad answer', 'no csrf token in the answer');
  }
  csrf = r.csrf;
  localStorage.setItem(kHint, String(r.expires || ''));
  return r;
}

export async function logout() {
  try {
    await api('POST', 'logout', {});
  } finally {
    forget();
  }
}

// After a reload: ask for the session's CSRF token, but only when this browser logged in
// before and the session has not expired (so a fresh visitor sees no failed request).
export async function restore() {
  const hint = localStorage.getItem(kHint);
  if (hint === null) {
    return false;
  }
  if (hint !== '' && Number(hint) * 1000 < Date.now()) {
    forget();
    return false;
  }
  try {
    const r = await api('GET', 'session');
    csrf = r.csrf;
    return typeof csrf === 'string' && csrf !== '';
  } catch (e) {
    if (e.status === 401) {
      return false;
    }
    throw e;
  }
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') {
      q.set(k, v);
    }
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
