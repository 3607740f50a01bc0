// The daemon's JSON API, as the signed-in reviewer: the session cookie goes along by itself; changes
// carry the session's anti-CSRF token.
let csrf = '';

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error;
  }
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, { method, headers, credentials: 'same-origin',
                                  body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

export const get = (path) => call('GET', path);
export const post = (path, body = {}) => call('POST', path, body);

export async function session() {
  const s = await get('/api/v1/session');
  csrf = s.csrf || '';
  return s;
}

export async function signIn(token) {
  const s = await call('POST', '/api/v1/session', { token });
  csrf = s.csrf;
  return s;
}

export async function signOut() {
  await call('DELETE', '/api/v1/session');
  csrf = '';
}

export const enc = encodeURIComponent;
