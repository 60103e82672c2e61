// Settings: push notifications for this device, installing the app, signing out.

import { NotAvailable } from '../api.js';
import { h, replace } from '../dom.js';
import { enablePush, pushSupport } from '../push.js';

let installPrompt = null;
window.addEventListener('beforeinstallprompt', (event) => {
  event.preventDefault();
  installPrompt = event;
});

export async function settingsView({ main, site, app }) {
  const pushStatus = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const pushButton = h('button', { type: 'button', class: 'btn primary' }, 'Enable notifications');
  const push = h('section', { class: 'panel', 'aria-labelledby': 'push-title' },
    h('h2', { id: 'push-title' }, 'Notifications'),
    h('p', { class: 'muted' }, `Get alerts of ${site.catalog.name} on this device, even when the app is closed.`),
    pushButton, pushStatus);
  replace(main, h('h1', {}, 'Settings'), push, installSection(), accountSection(app));
  const support = await pushSupport().catch(() => ({ ok: false, reason: 'Push state unknown.' }));
  pushButton.hidden = !support.ok || support.subscribed;
  pushStatus.textContent = support.reason;
  pushButton.addEventListener('click', async () => {
    pushButton.disabled = true;
    try {
      pushStatus.textContent = await enablePush(site.site);
      pushButton.hidden = true;
    } catch (error) {
      pushStatus.textContent = error instanceof NotAvailable
        ? 'Push notifications are not available on this server.'
        : `Could not enable notifications: ${error.message}`;
    } finally {
      pushButton.disabled = false;
    }
  });
  return null;
}

function installSection() {
  const standalone = window.matchMedia('(display-mode: standalone)').matches;
  const button = h('button', {
    type: 'button', class: 'btn', hidden: standalone || !installPrompt,
    onclick: async () => {
      installPrompt?.prompt();
      installPrompt = null;
      button.hidden = true;
    },
  }, 'Install app');
  const text = standalone ? 'shelfsense runs as an installed app.'
    : 'Add shelfsense to the home screen: it opens full screen and works offline.';
  return h('section', { class: 'panel', 'aria-labelledby': 'install-title' },
    h('h2', { id: 'install-title' }, 'App'), h('p', { class: 'muted' }, text), button);
}

function accountSection(app) {
  return h('section', { class: 'panel', 'aria-labelledby': 'account-title' },
    h('h2', { id: 'account-title' }, 'Account'),
    h('p', { class: 'muted' }, 'Signed in with an API token kept on this device.'),
    h('a', { class: 'btn', href: '/docs', target: '_blank', rel: 'noopener' }, 'API documentation'),
    h('button', { type: 'button', class: 'btn danger', onclick: () => app.signOut('You are signed out.') },
      'Sign out'));
}
