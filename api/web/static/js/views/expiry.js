// The expiry list (GET /sites/{site}/expiry): lots with their days left, expired first, then
// expiring, then ok. The field names of a lot are read leniently (the route belongs to another
// part of the API); when the server has no such route the page says so.

import { NotAvailable, features, get, sitePath } from '../api.js';
import { dateTime, h, note, replace } from '../dom.js';

const ORDER = { expired: 0, expiring: 1, ok: 2 };
const first = (row, ...keys) => keys.map((k) => row[k]).find((v) => v !== undefined && v !== null);

export async function expiryView({ main, site }) {
  replace(main, h('h1', {}, 'Expiry'));
  const can = await features();
  let rows = null;
  if (can.expiry !== false) {
    try {
      rows = await get(sitePath(site.site, '/expiry'));
    } catch (error) {
      if (!(error instanceof NotAvailable)) throw error;
    }
  }
  if (rows === null) {
    main.append(note('Expiry tracking is not available on this server yet.'));
    return null;
  }
  const lots = Array.isArray(rows) ? rows : rows.lots ?? rows.items ?? [];
  main.append(lots.length ? drawLots(lots, site) : note('No lots with an expiry date.'));
  return null;
}

function drawLots(lots, site) {
  const sorted = [...lots].sort((a, b) => (ORDER[a.status] ?? 3) - (ORDER[b.status] ?? 3)
    || (first(a, 'days_left') ?? 1e9) - (first(b, 'days_left') ?? 1e9));
  return h('ul', { class: 'cards', 'aria-label': 'Lots by expiry' }, sorted.map((lot) => {
    const sku = first(lot, 'sku') ?? '—';
    const name = site.product(sku)?.name;
    const lotId = first(lot, 'lot', 'lot_id', 'lot_code', 'batch', 'id');
    const expires = first(lot, 'expiry', 'expires_on', 'expiry_date', 'expires_at', 'best_before');
    const days = first(lot, 'days_left');
    const status = first(lot, 'status') ?? 'ok';
    const qty = first(lot, 'qty', 'quantity', 'units');
    return h('li', {}, h('article', {
      class: 'card lot', dataset: { status }, 'aria-label': `${sku} lot ${lotId ?? ''}: ${status}`,
    },
    h('header', {},
      h('h2', {}, name ? `${name}` : sku),
      h('span', { class: 'expiry', dataset: { status } }, status)),
    h('p', { class: 'days' }, days === undefined ? '' : daysText(days)),
    h('dl', { class: 'details' },
      h('dt', {}, 'SKU'), h('dd', {}, sku),
      lotId !== undefined ? [h('dt', {}, 'Lot'), h('dd', {}, String(lotId))] : null,
      first(lot, 'location') ? [h('dt', {}, 'Location'), h('dd', {}, lot.location)] : null,
      qty !== undefined ? [h('dt', {}, 'Quantity'), h('dd', {}, String(qty))] : null,
      expires ? [h('dt', {}, 'Expires'), h('dd', {}, expiresText(expires, site))] : null)));
  }));
}

/** days_left may be fractional: "3 d left", "less than a day left", "expired 2 d ago". */
function daysText(days) {
  if (days === null || Number.isNaN(Number(days))) return '';
  if (days < 0) return `expired ${Math.max(1, Math.floor(-days))} d ago`;
  return days < 1 ? 'less than a day left' : `${Math.floor(days)} d left`;
}

function expiresText(value, site) {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : dateTime(value, site.timeZone);
}
