// The store view: every shelf as a tile coloured by state (ok, low, out, unknown), grouped by
// aisle (the location's path without its last segment), and the latest movements. Both follow
// the live stream: a changed tile is redrawn and flashes; new movements slide in on top.

import { clock, h, leaf, parentPath, replace, STATES } from '../dom.js';

const SHOWN_KINDS = new Set(['shelf', 'storage', 'cooler']);
const MOVEMENTS_SHOWN = 12;

export async function storeView({ main, site }) {
  const locations = site.catalog.locations.filter((l) => SHOWN_KINDS.has(l.kind));
  const summary = h('ul', { class: 'chips', 'aria-label': 'Shelves by state' });
  const tiles = new Map();
  const groups = groupBy(locations, (l) => parentPath(l.id));
  const moves = h('ol', { class: 'moves', 'aria-label': 'Latest movements' });
  replace(main,
    h('h1', { class: 'visually-hidden' }, 'Store'),
    summary,
    [...groups].map(([name, locs]) => h('section', { class: 'aisle', 'aria-label': name || 'Store' },
      h('h2', {}, name || 'Store'),
      h('ul', { class: 'tiles' }, locs.map((l) => h('li', {}, tileOf(l, tiles)))))),
    h('section', { class: 'panel', 'aria-labelledby': 'moves-title' },
      h('h2', { id: 'moves-title' }, 'Latest movements'), moves));
  const redraw = (location, flash) => {
    const old = tiles.get(location.id);
    const tile = drawTile(site, location);
    if (flash) tile.classList.add('flash');
    old.replaceWith(tile);
    tiles.set(location.id, tile);
  };
  const drawAll = () => {
    locations.forEach((l) => redraw(l, false));
    drawSummary(summary, site, locations);
    drawMoves(moves, site, site.movements.slice(0, MOVEMENTS_SHOWN), false);
  };
  drawAll();
  const onStock = (e) => {
    const changed = new Set(e.detail.map((r) => r.location));
    locations.filter((l) => changed.has(l.id)).forEach((l) => redraw(l, true));
    drawSummary(summary, site, locations);
  };
  const onMoves = (e) => {
    const fresh = new Set(e.detail.map((m) => m.id));
    drawMoves(moves, site, site.movements.slice(0, MOVEMENTS_SHOWN), fresh);
  };
  site.addEventListener('stock', onStock);
  site.addEventListener('movements', onMoves);
  return () => {
    site.removeEventListener('stock', onStock);
    site.removeEventListener('movements', onMoves);
  };
}

function groupBy(items, key) {
  const groups = new Map();
  for (const item of items) {
    const k = key(item);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(item);
  }
  return groups;
}

function tileOf(location, tiles) {
  const placeholder = h('span');
  tiles.set(location.id, placeholder);
  return placeholder;
}

function drawTile(site, location) {
  const { state, main, cells } = site.tile(location);
  const sku = main?.sku ?? location.sku ?? '—';
  const qty = main ? String(main.qty) : '–';
  const more = cells.length - (main ? 1 : 0);
  const label = `${location.id}: ${sku} ${qty}, ${state}${more > 0 ? `, ${more} more products` : ''}`;
  return h('a', {
    class: 'tile',
    href: `#/s/${encodeURIComponent(site.site)}/shelf/${encodeURIComponent(location.id)}`,
    'aria-label': label,
    dataset: { state, location: location.id },
  },
  h('span', { class: 'tile-name' }, leaf(location.id)),
  h('span', { class: 'tile-qty' }, qty),
  h('span', { class: 'tile-sku' }, sku),
  h('span', { class: 'tile-state' }, more > 0 ? `${state} · +${more}` : state));
}

function drawSummary(summary, site, locations) {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  for (const l of locations) counts[site.tile(l).state] += 1;
  replace(summary, STATES.map((s) => h('li', { class: 'chip', dataset: { state: s } },
    h('span', { class: 'chip-dot', 'aria-hidden': 'true' }), `${s} ${counts[s]}`)));
}

export function drawMoves(list, site, movements, fresh) {
  if (!movements.length) {
    replace(list, h('li', { class: 'empty' }, 'No movements yet.'));
    return;
  }
  replace(list, movements.map((m) => moveItem(m, site.timeZone, fresh && fresh.has(m.id))));
}

/** "14:03:07 · PASTA-500 ×1 · arrive · aisle-1/shelf-1 → out of sight" */
export function moveItem(m, timeZone, isNew) {
  const where = `${place(m.from_location, 'out of sight')} → ${place(m.to_location, 'out of sight')}`;
  return h('li', {
    class: isNew ? 'move new' : 'move',
    dataset: { id: m.id, shownAt: m.shownAt ?? '', kind: m.kind, epc: m.epc ?? '' },
  },
  h('time', { datetime: m.ts }, clock(m.ts, timeZone)),
  h('span', { class: 'move-what' }, `${m.sku ?? 'unknown tag'} ×${m.qty}`),
  h('span', { class: 'move-kind' }, m.kind),
  h('span', { class: 'move-where' }, where));
}

function place(location, none) {
  if (!location) return none;
  const parts = location.split('/');
  return parts.slice(-2).join('/');
}
