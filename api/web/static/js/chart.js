// A step chart of one cell's stock over time, drawn as inline SVG (no chart library).
//
// `points` are the cell's changes [{ts, qty, state}] in time order; the first may lie before
// `startMs` (the level when the window opened). The level holds until the next change, and the
// last one holds until `endMs`. Stretches in state `out` or `unknown` get a tinted band, and
// `minQty` (the low-stock threshold) a dashed line.

import { clock, svg } from './dom.js';

const W = 360;
const H = 180;
const PAD = { left: 30, right: 10, top: 12, bottom: 26 };

export function stepChart({ points, startMs, endMs, minQty, capacity, timeZone, label }) {
  const steps = clip(points, startMs, endMs);
  const top = Math.max(1, minQty ?? 0, capacity ?? 0, ...steps.map((p) => p.qty));
  const x = (ms) => PAD.left + ((ms - startMs) / (endMs - startMs)) * (W - PAD.left - PAD.right);
  const y = (qty) => H - PAD.bottom - (qty / top) * (H - PAD.top - PAD.bottom);
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': label,
  });
  root.append(...bands(steps, endMs, x), ...axes(startMs, endMs, top, x, y, timeZone));
  if (minQty) {
    root.append(svg('line', {
      class: 'chart-min', x1: PAD.left, x2: W - PAD.right, y1: y(minQty), y2: y(minQty),
    }));
  }
  if (steps.length) root.append(...line(steps, endMs, x, y));
  else root.append(svg('text', { class: 'chart-empty', x: W / 2, y: H / 2 }, 'no stock changes'));
  return root;
}

/** The steps inside [startMs, endMs): the carried-in level starts at startMs. */
function clip(points, startMs, endMs) {
  const inside = points.filter((p) => Date.parse(p.ts) >= startMs && Date.parse(p.ts) < endMs);
  const before = points.filter((p) => Date.parse(p.ts) < startMs).pop();
  const steps = inside.map((p) => ({ ...p, ms: Date.parse(p.ts) }));
  if (before) steps.unshift({ ...before, ms: startMs });
  return steps;
}

function line(steps, endMs, x, y) {
  let d = `M${x(steps[0].ms).toFixed(1)},${y(steps[0].qty).toFixed(1)}`;
  for (const p of steps.slice(1)) d += `H${x(p.ms).toFixed(1)}V${y(p.qty).toFixed(1)}`;
  d += `H${x(endMs).toFixed(1)}`;
  const area = `${d}V${y(0).toFixed(1)}H${x(steps[0].ms).toFixed(1)}Z`;
  return [svg('path', { class: 'chart-area', d: area }), svg('path', { class: 'chart-line', d })];
}

function bands(steps, endMs, x) {
  return steps.map((p, i) => {
    if (p.state !== 'out' && p.state !== 'unknown') return null;
    const until = steps[i + 1]?.ms ?? endMs;
    return svg('rect', {
      class: `chart-band ${p.state}`, x: x(p.ms), width: Math.max(0, x(until) - x(p.ms)),
      y: PAD.top, height: H - PAD.top - PAD.bottom,
    });
  }).filter(Boolean);
}

function axes(startMs, endMs, top, x, y, timeZone) {
  const out = [svg('line', {
    class: 'chart-axis', x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0),
  })];
  for (const qty of [0, Math.round(top / 2), top]) {
    out.push(svg('text', { class: 'chart-tick', x: PAD.left - 6, y: y(qty) + 4, 'text-anchor': 'end' },
      String(qty)));
  }
  const ticks = [startMs, (startMs + endMs) / 2, endMs];
  ticks.forEach((ms, i) => {
    const anchor = ['start', 'middle', 'end'][i];
    const label = clock(new Date(ms).toISOString(), timeZone).slice(0, 5);
    out.push(svg('text', { class: 'chart-tick', x: x(ms), y: H - 8, 'text-anchor': anchor }, label));
  });
  return out;
}
