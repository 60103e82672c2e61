// Sign-in (paste an API token; it is checked before it is kept) and the site picker.

import { AuthError, NetworkError, get, token } from '../api.js';
import { h, note, replace } from '../dom.js';

export async function signinView({ main, app }) {
  const message = app.signInMessage;
  app.signInMessage = null;
  const status = h('p', { class: 'form-status', role: 'alert', 'aria-live': 'assertive' });
  if (message) status.textContent = message;
  const input = h('input', {
    id: 'token', name: 'token', type: 'password', required: true, autocomplete: 'current-password',
    spellcheck: 'false', autocapitalize: 'off', placeholder: 'ss_…',
  });
  const button = h('button', { type: 'submit', class: 'btn primary' }, 'Sign in');
  const form = h('form', { class: 'panel signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h('p', {}, 'Paste an API token from ', h('code', {}, 'shelfsense token create'),
      ' or from your administrator.'),
    h('label', { for: 'token' }, 'API token'), input, status, button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    signIn(input.value.trim(), status, button, app);
  });
  replace(main, form);
  input.focus();
}

async function signIn(value, status, button, app) {
  if (!value) return;
  button.disabled = true;
  status.textContent = 'Checking…';
  try {
    await get('/sites', { token: value });
    token.set(value);
    status.textContent = '';
    app.navigate('/', { replace: true });
  } catch (error) {
    status.textContent = error instanceof AuthError
      ? 'That token was not accepted: it is unknown, expired or revoked.'
      : error instanceof NetworkError ? 'The server cannot be reached.' : error.message;
  } finally {
    button.disabled = false;
  }
}

export async function sitesView({ main }) {
  const sites = await get('/sites');
  const list = sites.length
    ? h('ul', { class: 'cards', 'aria-label': 'Sites' }, sites.map((s) => h('li', {},
      h('a', { class: 'card link', href: `#/s/${encodeURIComponent(s.site)}` },
        h('strong', {}, s.name), h('span', { class: 'muted' }, `${s.site} · ${s.timezone}`)))))
    : note('No sites yet: apply a site file with `shelfsense site apply`.');
  replace(main, h('section', { 'aria-labelledby': 'sites-title' },
    h('h1', { id: 'sites-title' }, 'Choose a store'), list));
}
