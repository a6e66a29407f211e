// The link from the reset mail: choose a new password, then sign in with
// it at once.
import { api, setCsrf } from './api.js';
import { h, fill, notice, params } from './dom.js';
import { boot } from './shell.js';
import { field, clearErrors, showError } from './forms.js';

const main = document.getElementById('main');

async function start() {
  await boot('signin');
  const token = params().get('token') || '';
  const button = h('button', { type: 'submit', class: 'btn primary big', text: 'Set password and sign in' });
  const form = h('form', { id: 'reset-form', novalidate: true },
    h('div', { class: 'form-error', 'aria-live': 'assertive' }),
    field('email', 'Email', { type: 'email', autocomplete: 'username', required: true }),
    field('password', 'New password', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10 },
      'At least 10 characters.'),
    button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    button.disabled = true;
    try {
      await api('POST', `/password-resets/${encodeURIComponent(token)}`, { password: form.password.value });
      const s = await api('POST', '/sessions', { email: form.email.value.trim(), password: form.password.value });
      setCsrf(s.csrf_token);
      location.assign('/account.html?reset=1');
    } catch (err) {
      button.disabled = false;
      if (err.code === 'token_gone' || err.code === 'unknown_token') {
        fill(main, h('div', { class: 'card narrow auth' }, h('h1', { text: 'This link does not work' }),
          notice('error', err.message),
          h('p', {}, h('a', { href: '/forgot.html', class: 'btn primary', text: 'Send a new link' }))));
        return;
      }
      showError(form, err, { weak_password: 'password', invalid_credentials: 'email' });
    }
  });
  fill(main, h('div', { class: 'card narrow auth' },
    h('h1', { text: 'Choose a new password' }),
    h('p', { text: 'Every other session of your account is signed out.' }), form));
  form.email.focus();
}

start();
