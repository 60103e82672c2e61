// The alert feed: open alerts (active first, most severe first, newest first), following the
// live stream, with Acknowledge and Clear buttons. The buttons call
//   POST /sites/{site}/alerts/{id}/ack    POST /sites/{site}/alerts/{id}/clear
// and are hidden when this server has no such route (see api.features()).

import { ApiError, NotAvailable, features, post, sitePath } from '../api.js';
import { dateTime, h, replace, severityRank } from '../dom.js';

export async function alertsView({ main, site }) {
  const can = await features();
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const list = h('ul', { class: 'alerts', 'aria-label': 'Open alerts' });
  const unavailable = can.ack === false
    ? h('p', { class: 'muted' }, 'Acknowledging alerts is not available on this server yet.')
    : null;
  replace(main, h('h1', {}, 'Alerts'), unavailable, status, list);
  const draw = () => drawAlerts(list, site, can, status);
  draw();
  site.addEventListener('alerts', draw);
  return () => site.removeEventListener('alerts', draw);
}

function ordered(alerts) {
  return [...alerts].sort((a, b) => (a.status === 'active' ? 0 : 1) - (b.status === 'active' ? 0 : 1)
    || severityRank(a.severity) - severityRank(b.severity)
    || Date.parse(b.opened_at) - Date.parse(a.opened_at));
}

function drawAlerts(list, site, can, status) {
  const alerts = ordered(site.alerts.values());
  if (!alerts.length) {
    replace(list, h('li', { class: 'empty' }, 'No open alerts. All good.'));
    return;
  }
  replace(list, alerts.map((a) => alertCard(a, site, can, status)));
}

const human = (type) => String(type).replaceAll('_', ' ');

function alertCard(alert, site, can, status) {
  const subject = [alert.location, alert.sku].filter(Boolean).join(' · ');
  const title = `${human(alert.type)}${alert.location ? ` at ${alert.location}` : ''}`;
  const actions = [];
  if (alert.status === 'active' && can.ack !== false) {
    actions.push(button('Acknowledge', `Acknowledge ${title}`, 'primary',
      () => act(site, alert, 'ack', 'acknowledged', status)));
  }
  if (can.clear === true) {
    actions.push(button('Clear', `Clear ${title}`, '',
      () => act(site, alert, 'clear', 'cleared', status)));
  }
  return h('li', {},
    h('article', {
      class: 'card alert', 'aria-label': title,
      dataset: { alertId: alert.id, severity: alert.severity, status: alert.status },
    },
    h('header', {},
      h('span', { class: 'sev', dataset: { severity: alert.severity } }, alert.severity),
      h('h2', {}, human(alert.type)),
      h('span', { class: 'alert-status' }, alert.status)),
    subject ? h('p', { class: 'muted' }, subject) : null,
    h('p', { class: 'muted' }, 'since ',
      h('time', { datetime: alert.opened_at }, dateTime(alert.opened_at, site.timeZone))),
    details(alert.details),
    actions.length ? h('div', { class: 'actions' }, actions) : null));
}

function details(values) {
  const entries = Object.entries(values ?? {}).slice(0, 6);
  if (!entries.length) return null;
  return h('dl', { class: 'details' }, entries.map(([k, v]) => [
    h('dt', {}, human(k)), h('dd', {}, typeof v === 'object' ? JSON.stringify(v) : String(v))]));
}

function button(text, label, kind, onclick) {
  return h('button', { type: 'button', class: `btn ${kind}`, 'aria-label': label, onclick }, text);
}

async function act(site, alert, verb, newStatus, status) {
  status.textContent = '';
  try {
    const body = await post(sitePath(site.site, `/alerts/${alert.id}/${verb}`));
    const row = body && typeof body === 'object' && body.id === alert.id ? body : null;
    site.applyAlerts([row ?? { ...alert, status: newStatus }]);
    status.textContent = `${human(alert.type)}: ${newStatus}.`;
  } catch (error) {
    status.textContent = explain(error, verb);
  }
}

function explain(error, verb) {
  const what = verb === 'ack' ? 'Acknowledging' : 'Clearing';
  if (error instanceof NotAvailable) return `${what} alerts is not available on this server.`;
  if (error instanceof ApiError && error.status === 403) {
    return `${what} alerts needs the operator role.`;
  }
  return `${what} failed: ${error.message}`;
}
