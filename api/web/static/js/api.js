// The API client: the bearer token (kept in localStorage), JSON calls and their errors.
//
//   AuthError     401: the token is missing, invalid, expired or revoked -> sign in again
//   NotAvailable  404 from a route this server does not have (an older or partial API)
//   ApiError      any other HTTP error, with the server's `detail`
//   NetworkError  no answer at all (offline, server down)

export const API = '/api/v1';
const TOKEN_KEY = 'shelfsense.token';

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}
export class AuthError extends ApiError {}
export class NotAvailable extends ApiError {}
export class NetworkError extends Error {}

export const token = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (value) => localStorage.setItem(TOKEN_KEY, value.trim()),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

let onAuthError = () => {};
/** Called once per failed call with the AuthError (the app sends the user to sign-in). */
export function setAuthErrorHandler(fn) {
  onAuthError = fn;
}

export function authHeaders(value = token.get()) {
  return value ? { Authorization: `Bearer ${value}` } : {};
}

async function detailOf(response) {
  try {
    const body = await response.json();
    return typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail ?? body);
  } catch {
    return response.statusText;
  }
}

/** The error for a failed response (FastAPI answers an unknown route with "Not Found"). */
export async function errorFor(response) {
  const detail = await detailOf(response);
  if (response.status === 401) return new AuthError(401, detail);
  if (response.status === 404 && detail === 'Not Found') return new NotAvailable(404, detail);
  if (response.status === 405) return new NotAvailable(405, detail);
  return new ApiError(response.status, detail);
}

/** A JSON call under /api/v1. `opts.token` overrides the stored token (sign-in check). */
export async function call(path, opts = {}) {
  const headers = { Accept: 'application/json', ...authHeaders(opts.token ?? token.get()) };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(API + path, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
      cache: 'no-store',
    });
  } catch (exc) {
    if (exc.name === 'AbortError') throw exc;
    throw new NetworkError('the server cannot be reached');
  }
  if (!response.ok) {
    const error = await errorFor(response);
    if (error instanceof AuthError && opts.token === undefined) onAuthError(error);
    throw error;
  }
  return response.status === 204 ? null : response.json();
}

export const get = (path, opts) => call(path, opts);
export const post = (path, body, opts = {}) => call(path, { ...opts, method: 'POST', body });

export const sitePath = (site, rest = '') => `/sites/${encodeURIComponent(site)}${rest}`;

/** "?since=…&x=…" from the defined values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : '';
}

// Optional routes (added by other parts of the project) are found in the OpenAPI schema, so a
// button is hidden instead of failing. When the schema cannot be read every feature is "maybe"
// (undefined) and the calls themselves say NotAvailable.
const FEATURES = {
  ack: /^\/api\/v1\/sites\/\{[^}]+\}\/alerts\/\{[^}]+\}\/ack$/,
  clear: /^\/api\/v1\/sites\/\{[^}]+\}\/alerts\/\{[^}]+\}\/clear$/,
  expiry: /^\/api\/v1\/sites\/\{[^}]+\}\/expiry$/,
  history: /^\/api\/v1\/sites\/\{[^}]+\}\/locations\/\{[^}]+\}\/history$/,
  vapid: /^\/api\/v1\/webpush\/vapid-public-key$/,
  subscriptions: /^\/api\/v1\/webpush\/subscriptions$/,
};
let featuresPromise = null;

export function features() {
  featuresPromise ??= fetch('/openapi.json', { cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.statusText))))
    .then((schema) => {
      const paths = Object.keys(schema.paths ?? {});
      return Object.fromEntries(
        Object.entries(FEATURES).map(([name, re]) => [name, paths.some((p) => re.test(p))]),
      );
    })
    .catch(() => {
      featuresPromise = null; // ask again next time
      return {};
    });
  return featuresPromise;
}
