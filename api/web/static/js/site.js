// What the app knows about the open site: its catalog, stock cells, open alerts and the newest
// movements, loaded through the REST reads and kept current by the live stream.
//
// Views listen for 'catalog', 'stock', 'alerts', 'movements' and 'connection' events; each
// carries the changed rows in `event.detail` (stock: the cells, movements: the new ones).
// Invariants: `stock` maps location -> (sku -> cell); `alerts` holds only alerts that are not
// cleared; `movements` is newest first, at most MOVEMENTS_KEPT long.

import { get, query, sitePath } from './api.js';
import { LiveStream } from './live.js';

const MOVEMENTS_KEPT = 50;
const RECENT_WINDOW_MS = 15 * 60 * 1000;
const WORST_FIRST = ['unknown', 'out', 'low', 'ok'];

export class SiteState extends EventTarget {
  constructor(site, { onAuthError }) {
    super();
    this.site = site;
    this.catalog = null;
    this.stock = new Map();
    this.alerts = new Map();
    this.movements = [];
    this.connection = 'stopped';
    this.live = new LiveStream(site, {
      onEvent: (name, data) => this.onLive(name, data),
      onState: (state) => this.emit('connection', (this.connection = state)),
      onAuthError,
      onReconnect: (resumed) => (resumed ? null : this.reload()),
    });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  get timeZone() {
    return this.catalog?.timezone;
  }

  /** Catalog, stock, alerts and recent movements; then the live stream. */
  async load() {
    this.catalog = await get(sitePath(this.site));
    this.emit('catalog', this.catalog);
    await this.reload();
    this.live.start();
  }

  async reload() {
    const path = (rest) => sitePath(this.site, rest);
    const [stock, active, acked] = await Promise.all([
      get(path('/stock')),
      get(path('/alerts?status=active')),
      get(path('/alerts?status=acknowledged')),
    ]);
    this.stock = new Map();
    this.applyStock(stock);
    this.alerts = new Map();
    this.applyAlerts([...active, ...acked]);
    const since = new Date(this.storeNowMs() - RECENT_WINDOW_MS).toISOString();
    const rows = await get(path(`/movements${query({ since, limit: 1000 })}`));
    this.movements = [];
    this.applyMovements(rows);
  }

  stop() {
    this.live.stop();
  }

  /** The newest event time seen (the store's clock; a simulated store may run ahead). */
  storeNowMs() {
    let newest = Date.now();
    for (const cells of this.stock.values()) {
      for (const cell of cells.values()) newest = Math.max(newest, Date.parse(cell.updated_at));
    }
    return newest;
  }

  onLive(name, data) {
    if (name === 'stock') this.applyStock(data);
    else if (name === 'alert') this.applyAlerts(data);
    else if (name === 'movement') this.applyMovements(data);
    else if (name === 'resync') this.reload().catch(() => {});
  }

  applyStock(rows) {
    for (const row of rows) {
      if (!this.stock.has(row.location)) this.stock.set(row.location, new Map());
      this.stock.get(row.location).set(row.sku, row);
    }
    this.emit('stock', rows);
  }

  applyAlerts(rows) {
    for (const row of rows) {
      if (row.status === 'cleared') this.alerts.delete(row.id);
      else this.alerts.set(row.id, row);
    }
    this.emit('alerts', rows);
  }

  applyMovements(rows) {
    const known = new Set(this.movements.map((m) => m.id));
    const fresh = rows.filter((m) => !known.has(m.id));
    const shownAt = Date.now();
    for (const m of fresh) m.shownAt = shownAt;
    this.movements = [...fresh.reverse(), ...this.movements]
      .sort((a, b) => Date.parse(b.ts) - Date.parse(a.ts) || b.id - a.id)
      .slice(0, MOVEMENTS_KEPT);
    this.emit('movements', fresh);
  }

  location(id) {
    return this.catalog?.locations.find((l) => l.id === id) ?? null;
  }

  product(sku) {
    return this.catalog?.products.find((p) => p.sku === sku) ?? null;
  }

  cells(locationId) {
    return [...(this.stock.get(locationId)?.values() ?? [])];
  }

  /** The tile of a location: its state, the cell shown (planogram product first) and the rest. */
  tile(location) {
    const cells = this.cells(location.id).filter((c) => c.qty > 0 || c.sku === location.sku);
    const main = cells.find((c) => c.sku === location.sku) ?? cells[0] ?? null;
    let state = 'unknown';
    if (location.sku) state = main?.sku === location.sku ? main.state : 'unknown';
    else if (cells.length) state = WORST_FIRST.find((s) => cells.some((c) => c.state === s));
    return { state, main, cells };
  }

  activeAlertCount() {
    return [...this.alerts.values()].filter((a) => a.status === 'active').length;
  }
}
