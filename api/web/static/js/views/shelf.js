// The shelf page: what is on one location now, its stock over time (step chart of
// GET /sites/{site}/locations/{location}/history) and its recent movements, following the live
// stream. Windows are counted back from the store's newest event time.

import { NotAvailable, get, query, sitePath } from '../api.js';
import { stepChart } from '../chart.js';
import { h, note, replace } from '../dom.js';
import { moveItem } from './store.js';

const WINDOWS = [['1 h', 3600e3], ['6 h', 6 * 3600e3], ['24 h', 24 * 3600e3], ['7 d', 7 * 86400e3]];
const MOVES_SHOWN = 20;

export async function shelfView({ main, site, params, active }) {
  const location = site.location(params[1]);
  if (!location) {
    replace(main, note(`Unknown location ${params[1]}.`, 'error-text'));
    return null;
  }
  const view = {
    site, location, windowMs: WINDOWS[0][1], history: [], moves: [],
    now: h('div', { class: 'cells' }),
    chart: h('figure', { class: 'panel chart-box' }),
    list: h('ol', { class: 'moves', 'aria-label': 'Movements at this location' }),
  };
  const picker = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Chart window' },
    WINDOWS.map(([text, ms]) => h('button', {
      type: 'button', class: 'seg', 'aria-pressed': String(ms === view.windowMs),
      onclick: (e) => pickWindow(view, ms, e.currentTarget, picker),
    }, text)));
  const product = location.sku ? site.product(location.sku) : null;
  replace(main,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: `#/s/${encodeURIComponent(site.site)}` }, 'Store'), ' / ', location.id),
    h('h1', {}, location.id),
    h('p', { class: 'muted' }, [location.kind,
      product ? `planogram ${product.name} (${product.sku})` : 'no planogram',
      location.min_qty != null ? `min ${location.min_qty}` : null,
      location.capacity != null ? `capacity ${location.capacity}` : null].filter(Boolean).join(' · ')),
    view.now,
    h('section', { 'aria-labelledby': 'chart-title' },
      h('h2', { id: 'chart-title' }, 'Stock over time'), picker, view.chart),
    h('section', { class: 'panel', 'aria-labelledby': 'shelf-moves' },
      h('h2', { id: 'shelf-moves' }, 'Recent movements'), view.list));
  drawNow(view);
  await Promise.all([loadHistory(view), loadMoves(view)]);
  if (!active()) return null;
  return follow(view);
}

function follow(view) {
  const { site, location } = view;
  const onStock = (e) => {
    const rows = e.detail.filter((r) => r.location === location.id);
    if (!rows.length) return;
    view.history.push(...rows.map((r) => ({ ts: r.updated_at, sku: r.sku, qty: r.qty, state: r.state })));
    drawNow(view);
    drawChart(view);
  };
  const onMoves = (e) => {
    const here = e.detail.filter((m) => m.from_location === location.id || m.to_location === location.id);
    if (!here.length) return;
    view.moves = [...here.reverse(), ...view.moves].slice(0, MOVES_SHOWN);
    drawMoves(view, new Set(here.map((m) => m.id)));
  };
  site.addEventListener('stock', onStock);
  site.addEventListener('movements', onMoves);
  return () => {
    site.removeEventListener('stock', onStock);
    site.removeEventListener('movements', onMoves);
  };
}

function pickWindow(view, ms, button, picker) {
  view.windowMs = ms;
  for (const b of picker.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b === button));
  loadHistory(view).catch(() => replace(view.chart, note('The history cannot be loaded.', 'error-text')));
}

const locationPath = (id) => id.split('/').map(encodeURIComponent).join('/');

async function loadHistory(view) {
  const since = new Date(view.site.storeNowMs() - view.windowMs).toISOString();
  const path = sitePath(view.site.site, `/locations/${locationPath(view.location.id)}/history`);
  try {
    view.history = await get(path + query({ since }));
  } catch (error) {
    if (!(error instanceof NotAvailable)) throw error;
    replace(view.chart, note('Stock history is not available on this server.'));
    return;
  }
  drawChart(view);
}

async function loadMoves(view) {
  const since = new Date(view.site.storeNowMs() - 24 * 3600e3).toISOString();
  const rows = await get(sitePath(view.site.site,
    `/movements${query({ location: view.location.id, since, limit: 1000 })}`));
  view.moves = rows.slice(-MOVES_SHOWN).reverse();
  drawMoves(view, null);
}

/** The product charted: the planogram's, else the one with the most changes. */
function chartedSku(view) {
  if (view.location.sku) return view.location.sku;
  const counts = new Map();
  for (const p of view.history) counts.set(p.sku, (counts.get(p.sku) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}

function drawChart(view) {
  const sku = chartedSku(view);
  const points = view.history.filter((p) => p.sku === sku)
    .sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  const endMs = view.site.storeNowMs();
  const last = points[points.length - 1];
  const label = sku
    ? `Stock of ${sku} over the last ${label_(view.windowMs)}: now ${last ? `${last.qty} (${last.state})` : 'unknown'}`
    : 'No stock recorded at this location';
  replace(view.chart,
    stepChart({
      points, startMs: endMs - view.windowMs, endMs, minQty: view.location.min_qty,
      capacity: view.location.capacity, timeZone: view.site.timeZone, label,
    }),
    h('figcaption', { class: 'muted' }, sku ? `${sku}: ${points.length} changes shown` : label));
}

const label_ = (ms) => WINDOWS.find(([, w]) => w === ms)?.[0] ?? `${ms / 3600e3} h`;

function drawNow(view) {
  const { state, cells } = view.site.tile(view.location);
  const rows = cells.length ? cells : [];
  replace(view.now,
    h('p', { class: 'shelf-state', dataset: { state } }, `State: ${state}`),
    rows.length
      ? h('ul', { class: 'cell-list', 'aria-label': 'On this location now' }, rows.map((c) => h('li', {},
        h('span', { class: 'cell-sku' }, c.sku), h('strong', { class: 'cell-qty' }, String(c.qty)),
        h('span', { class: 'cell-state', dataset: { state: c.state } }, c.state))))
      : note('Nothing seen on this location.'));
}

function drawMoves(view, fresh) {
  if (!view.moves.length) {
    replace(view.list, h('li', { class: 'empty' }, 'No movements in the last 24 h.'));
    return;
  }
  replace(view.list, view.moves.map((m) => moveItem(m, view.site.timeZone, fresh?.has(m.id))));
}
