// Web Push: ask for permission, subscribe with the server's VAPID key, hand the subscription to
// the server.
//   GET  /api/v1/webpush/vapid-public-key   -> the key (base64url), as text or {"key"|"public_key"}
//   POST /api/v1/webpush/subscriptions      <- PushSubscription.toJSON() (+ "site")
// `pushSupport()` says what stands in the way, if anything; `enablePush(site)` returns a message.

import { ApiError, features, get, post } from './api.js';

export async function pushSupport() {
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    return { ok: false, reason: 'This browser does not support push notifications.' };
  }
  const can = await features();
  if (can.vapid === false || can.subscriptions === false) {
    return { ok: false, reason: 'Push notifications are not available on this server.' };
  }
  if (Notification.permission === 'denied') {
    return { ok: false, reason: 'Notifications are blocked for this app in the browser settings.' };
  }
  const reg = await navigator.serviceWorker.getRegistration('/');
  const subscribed = Boolean(await reg?.pushManager.getSubscription());
  return { ok: true, subscribed, reason: subscribed ? 'Notifications are on for this device.' : '' };
}

function keyOf(body) {
  if (typeof body === 'string') return body;
  return body?.key ?? body?.public_key ?? body?.publicKey ?? body?.vapid_public_key ?? null;
}

/** base64url -> Uint8Array (what PushManager.subscribe wants as applicationServerKey). */
export function base64UrlBytes(text) {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

export async function enablePush(site) {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return 'Notifications were not allowed.';
  const key = keyOf(await get('/webpush/vapid-public-key'));
  if (!key) return 'The server sent no push key.';
  const reg = await navigator.serviceWorker.ready;
  const sub = (await reg.pushManager.getSubscription())
    ?? (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlBytes(key) }));
  const body = sub.toJSON();
  try {
    await post('/webpush/subscriptions', { ...body, site });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 422) throw error;
    await post('/webpush/subscriptions', body); // a server that takes the bare subscription
  }
  return 'Notifications are on for this device.';
}
