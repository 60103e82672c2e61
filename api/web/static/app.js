// shelfsense web app: the shell, the hash router and the open site.
//
//   #/signin                      paste a token          #/sites             pick a site
//   #/s/{site}                    store view             #/s/{site}/alerts   alert feed
//   #/s/{site}/shelf/{location}   shelf page             #/s/{site}/devices  devices
//   #/s/{site}/expiry             expiry list            #/s/{site}/settings settings, push
//
// A view is `async (ctx) => cleanup?`, drawing into ctx.main. A 401 from any call (or from the
// live stream) clears the token and shows sign-in with a message; any other failure shows an
// error with a retry button in place of the view, never a blank page.

import { AuthError, NetworkError, get, setAuthErrorHandler, token } from './js/api.js';
import { h, note, replace } from './js/dom.js';
import { SiteState } from './js/site.js';
import { alertsView } from './js/views/alerts.js';
import { devicesView } from './js/views/devices.js';
import { expiryView } from './js/views/expiry.js';
import { settingsView } from './js/views/settings.js';
import { shelfView } from './js/views/shelf.js';
import { signinView, sitesView } from './js/views/signin.js';
import { storeView } from './js/views/store.js';

const ROUTES = [
  { re: /^\/signin$/, view: signinView, open: true },
  { re: /^\/?$/, view: home },
  { re: /^\/sites$/, view: sitesView },
  { re: /^\/s\/([^/]+)$/, view: storeView, tab: 'store' },
  { re: /^\/s\/([^/]+)\/alerts$/, view: alertsView, tab: 'alerts' },
  { re: /^\/s\/([^/]+)\/shelf\/(.+)$/, view: shelfView, tab: 'store' },
  { re: /^\/s\/([^/]+)\/devices$/, view: devicesView, tab: 'devices' },
  { re: /^\/s\/([^/]+)\/expiry$/, view: expiryView, tab: 'expiry' },
  { re: /^\/s\/([^/]+)\/settings$/, view: settingsView, tab: 'settings' },
];
const TABS = [
  ['store', 'Store', ''],
  ['alerts', 'Alerts', '/alerts'],
  ['devices', 'Devices', '/devices'],
  ['expiry', 'Expiry', '/expiry'],
  ['settings', 'Settings', '/settings'],
];
const LAST_SITE_KEY = 'shelfsense.site';
const OFFLINE = 'You are offline: the app shows what it can and retries when you are back.';
const CONN_TEXT = {
  connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', stopped: 'offline',
};

const main = document.getElementById('main');
let site = null; // SiteState of the open site
let cleanup = null;
let renderSeq = 0;
export const app = { signInMessage: null, navigate, signOut, openSite: () => site };

async function home({ active }) {
  const sites = await get('/sites');
  if (!active()) return;
  const last = localStorage.getItem(LAST_SITE_KEY);
  const pick = sites.length === 1 ? sites[0].site : sites.find((s) => s.site === last)?.site;
  navigate(pick ? `/s/${encodeURIComponent(pick)}` : '/sites', { replace: true });
}

export function navigate(path, { replace: swap = false } = {}) {
  if (swap) history.replaceState(null, '', `#${path}`);
  else location.hash = `#${path}`;
  if (swap) route();
}

function signOut(message = null) {
  token.clear();
  closeSite();
  app.signInMessage = message;
  navigate('/signin', { replace: true });
}

function onAuthError() {
  if (location.hash.startsWith('#/signin')) return;
  signOut('Your session has ended: the token is invalid, expired or revoked. Sign in again.');
}

function closeSite() {
  site?.stop();
  site = null;
  showConnection('stopped', false);
  replace(document.getElementById('site-name'));
}

async function ensureSite(id) {
  if (site?.site === id) return site;
  closeSite();
  site = new SiteState(id, { onAuthError });
  site.addEventListener('connection', (e) => showConnection(e.detail, true));
  site.addEventListener('alerts', () => drawTabs());
  site.addEventListener('catalog', (e) => {
    replace(document.getElementById('site-name'), e.detail.name);
    localStorage.setItem(LAST_SITE_KEY, id);
  });
  try {
    await site.load();
  } catch (error) {
    closeSite();
    throw error;
  }
  return site;
}

function showConnection(state, visible) {
  const el = document.getElementById('conn');
  el.hidden = !visible;
  el.dataset.state = state;
  el.querySelector('.conn-text').textContent = CONN_TEXT[state] ?? state;
  el.setAttribute('aria-label', `Live updates: ${CONN_TEXT[state] ?? state}`);
}

function drawTabs(active = document.getElementById('tabs').dataset.active) {
  const nav = document.getElementById('tabs');
  nav.hidden = !site || !active;
  nav.dataset.active = active ?? '';
  if (nav.hidden) return;
  const base = `#/s/${encodeURIComponent(site.site)}`;
  const alerts = site.activeAlertCount();
  replace(nav, TABS.map(([key, label, rest]) => h('a', {
    href: base + rest,
    class: 'tab',
    'aria-current': key === active ? 'page' : null,
    'aria-label': key === 'alerts' && alerts ? `Alerts, ${alerts} active` : null,
  }, label, key === 'alerts' && alerts ? h('span', { class: 'badge' }, String(alerts)) : null)));
}

function parse() {
  const raw = location.hash.replace(/^#/, '') || '/';
  let path = raw;
  try {
    path = decodeURI(raw);
  } catch {
    // a malformed escape: match the raw text
  }
  for (const r of ROUTES) {
    const m = path.match(r.re);
    if (m) return { route: r, params: m.slice(1).map(decodeURIComponent) };
  }
  return null;
}

async function route() {
  const seq = ++renderSeq;
  cleanup?.();
  cleanup = null;
  banner(navigator.onLine ? null : OFFLINE);
  const found = parse();
  if (!found) return navigate('/', { replace: true });
  if (!found.route.open && !token.get()) return navigate('/signin', { replace: true });
  const { route: r, params } = found;
  // Each view draws into a container of its own: a view still loading when the user moves on
  // keeps drawing into a container that is no longer on the page.
  const view = h('div', { class: 'view' });
  const ctx = { main: view, params, app, active: () => seq === renderSeq };
  try {
    if (r.tab) ctx.site = await ensureSite(params[0]);
    else if (r.view !== home) closeSite();
    if (!ctx.active()) return;
    drawTabs(r.tab ?? null);
    replace(main, view);
    const done = await r.view(ctx);
    if (ctx.active()) cleanup = done ?? null;
    else done?.();
  } catch (error) {
    if (ctx.active()) failed(error);
  }
}

function failed(error) {
  if (error instanceof AuthError) return onAuthError();
  const text = error instanceof NetworkError
    ? 'The server cannot be reached. Check the connection and try again.'
    : `Something went wrong: ${error.message}`;
  replace(main, h('section', { class: 'panel error', role: 'alert' },
    note(text, 'error-text'),
    h('button', { type: 'button', class: 'btn', onclick: () => route() }, 'Try again')));
}

export function banner(text) {
  const el = document.getElementById('banner');
  el.hidden = !text;
  el.textContent = text ?? '';
}

setAuthErrorHandler(onAuthError);
window.addEventListener('hashchange', route);
window.addEventListener('offline', () => banner(OFFLINE));
window.addEventListener('online', () => banner(null));
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
}
route();
