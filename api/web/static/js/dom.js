// DOM and formatting helpers. Text always goes in through textContent (never innerHTML), so
// nothing the API returns can become markup.

/** h('a', {href: '#/', class: 'x', onclick: fn, 'aria-label': 'y'}, 'text', child, [kids]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes (no event handlers, no text content). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children.flat()) {
    if (child) el.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** The last path segment of a location id ("floor/aisle-1/shelf-2" -> "shelf-2"). */
export function leaf(location) {
  const parts = String(location).split('/');
  return parts[parts.length - 1];
}

/** The location's group: its path without the last segment ("" for top-level ids). */
export function parentPath(location) {
  const i = String(location).lastIndexOf('/');
  return i < 0 ? '' : location.slice(0, i);
}

const formatters = new Map();

function formatter(timeZone, options) {
  const key = `${timeZone}|${JSON.stringify(options)}`;
  if (!formatters.has(key)) {
    try {
      formatters.set(key, new Intl.DateTimeFormat(undefined, { ...options, timeZone }));
    } catch {
      formatters.set(key, new Intl.DateTimeFormat(undefined, options)); // unknown zone
    }
  }
  return formatters.get(key);
}

/** "14:03:07" in the store's time zone. */
export function clock(iso, timeZone) {
  if (!iso) return '—';
  const opts = { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false };
  return formatter(timeZone, opts).format(new Date(iso));
}

/** "21 Nov, 14:03" in the store's time zone. */
export function dateTime(iso, timeZone) {
  if (!iso) return '—';
  const opts = { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hour12: false };
  return formatter(timeZone, opts).format(new Date(iso));
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago" (or "in 4 min" for times ahead of now). */
export function ago(iso, nowMs = Date.now()) {
  if (!iso) return 'never';
  const deltaS = Math.round((nowMs - Date.parse(iso)) / 1000);
  const abs = Math.abs(deltaS);
  const text = abs < 60 ? `${abs} s` : abs < 3600 ? `${Math.round(abs / 60)} min`
    : abs < 86400 ? `${Math.round(abs / 3600)} h` : `${Math.round(abs / 86400)} d`;
  return deltaS >= -5 ? `${text} ago` : `in ${text}`;
}

export const STATES = ['ok', 'low', 'out', 'unknown'];
const SEVERITY = { critical: 0, major: 1, warning: 2, info: 3 };
export const severityRank = (severity) => SEVERITY[severity] ?? 4;

/** A small empty-state / error paragraph. */
export const note = (text, cls = 'empty') => h('p', { class: cls }, text);
