// shelfsense service worker (scope /): the app shell offline, and Web Push notifications.
//
// Shell files are fetched network-first (the server answers 304 when nothing changed) and the
// cached copy is used when the network is down, so the app still opens in a store without a
// connection. /api/ is never cached or intercepted (live data and the event stream pass through).
// A push message is JSON {title, body, url?, tag?, severity?} (plain text becomes the body);
// clicking the notification focuses an open app window or opens `url`.

const CACHE = 'shelfsense-shell-v1';
const SHELL = [
  '/',
  '/manifest.webmanifest',
  '/static/app.css',
  '/static/app.js',
  '/static/js/api.js',
  '/static/js/chart.js',
  '/static/js/dom.js',
  '/static/js/live.js',
  '/static/js/push.js',
  '/static/js/site.js',
  '/static/js/views/alerts.js',
  '/static/js/views/devices.js',
  '/static/js/views/expiry.js',
  '/static/js/views/settings.js',
  '/static/js/views/shelf.js',
  '/static/js/views/signin.js',
  '/static/js/views/store.js',
  '/static/icons/icon.svg',
  '/static/icons/icon-192.png',
  '/static/icons/apple-touch-icon.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

function isShell(url) {
  return url.origin === self.location.origin && !url.pathname.startsWith('/api/')
    && !url.pathname.startsWith('/docs') && url.pathname !== '/openapi.json';
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreSearch: true })
      ?? (request.mode === 'navigate' ? await cache.match('/') : undefined);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || !isShell(url)) return;
  event.respondWith(networkFirst(event.request));
});

function parsePush(data) {
  if (!data) return {};
  try {
    return data.json();
  } catch {
    return { body: data.text() };
  }
}

self.addEventListener('push', (event) => {
  const msg = parsePush(event.data);
  const title = msg.title || 'shelfsense alert';
  event.waitUntil(self.registration.showNotification(title, {
    body: msg.body || '',
    tag: msg.tag,
    icon: '/static/icons/icon-192.png',
    badge: '/static/icons/icon-192.png',
    data: { url: msg.url || '/#/' },
    requireInteraction: msg.severity === 'critical',
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url || '/#/', self.location.origin).href;
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((wins) => {
    const open = wins.find((w) => new URL(w.url).origin === self.location.origin);
    if (open) return open.focus().then(() => open.navigate(target));
    return self.clients.openWindow(target);
  }));
});
