// The devices page: every reader, scale and probe with its gateway's state, when its last
// batch arrived and the event time it covered. Reloaded every 10 s while open (device health
// has no live event). A device is "silent" when nothing arrived for SILENT_AFTER_S.

import { get, sitePath } from '../api.js';
import { ago, dateTime, h, note, replace } from '../dom.js';

const REFRESH_MS = 10000;
const SILENT_AFTER_S = 60;

export async function devicesView({ main, site, active }) {
  const list = h('ul', { class: 'cards', 'aria-label': 'Devices' });
  const updated = h('p', { class: 'muted', role: 'status' });
  replace(main, h('h1', {}, 'Devices'), updated, list);
  const load = async () => {
    const rows = await get(sitePath(site.site, '/devices'));
    if (!active()) return;
    drawDevices(list, site, rows);
    updated.textContent = `${rows.length} devices · updated ${new Date().toLocaleTimeString()}`;
  };
  await load();
  const timer = setInterval(() => load().catch(() => {
    updated.textContent = 'Cannot refresh: the server is not answering.';
  }), REFRESH_MS);
  return () => clearInterval(timer);
}

function health(row, nowMs) {
  if (row.gateway_state === 'offline') return 'offline';
  if (!row.last_seen_at) return 'never';
  return (nowMs - Date.parse(row.last_seen_at)) / 1000 > SILENT_AFTER_S ? 'silent' : 'ok';
}

function where(row, site) {
  if (row.location) return row.location;
  const device = site.catalog.devices.find((d) => d.id === row.id);
  const places = [...new Set((device?.antennas ?? []).map((a) => a.location))];
  return places.length ? places.join(', ') : '—';
}

function backlog(n) {
  if (n === null || n === undefined) return '—';
  return n === 1 ? '1 batch waiting' : `${n} batches waiting`;
}

function drawDevices(list, site, rows) {
  if (!rows.length) {
    replace(list, note('No devices in this site.'));
    return;
  }
  const nowMs = Date.now();
  replace(list, rows.map((row) => {
    const state = health(row, nowMs);
    return h('li', {}, h('article', {
      class: 'card device', 'aria-label': `${row.id}, ${row.kind}, ${state}`, dataset: { state },
    },
    h('header', {},
      h('h2', {}, row.id),
      h('span', { class: 'kind' }, row.kind),
      h('span', { class: 'health', dataset: { state } }, state)),
    h('dl', { class: 'details' },
      h('dt', {}, 'Location'), h('dd', {}, where(row, site)),
      h('dt', {}, 'Last seen'), h('dd', {}, h('time', { datetime: row.last_seen_at ?? '' }, ago(row.last_seen_at, nowMs))),
      h('dt', {}, 'Covered until'), h('dd', {}, dateTime(row.last_t1, site.timeZone)),
      h('dt', {}, 'Gateway'), h('dd', {}, `${row.gateway} `,
        h('span', { class: 'gw', dataset: { state: row.gateway_state } }, row.gateway_state)),
      h('dt', {}, 'Backlog'), h('dd', {}, backlog(row.gateway_backlog)))));
  }));
}
