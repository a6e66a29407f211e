// Forgotten password: ask for a link by email. The answer is the same
// whether or not the address has an account.
import { api } from './api.js';
import { h, fill, notice } from './dom.js';
import { boot } from './shell.js';
import { field, clearErrors, showError } from './forms.js';

const main = document.getElementById('main');

async function start() {
  await boot('signin');
  const button = h('button', { type: 'submit', class: 'btn primary big', text: 'Send me a link' });
  const form = h('form', { id: 'forgot-form', novalidate: true },
    h('div', { class: 'form-error', 'aria-live': 'assertive' }),
    field('email', 'Email', { type: 'email', autocomplete: 'email', required: true }),
    button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    button.disabled = true;
    try {
      const r = await api('POST', '/password-resets', { email: form.email.value.trim() });
      fill(main, h('div', { class: 'card narrow auth' }, h('h1', { text: 'Check your mail' }),
        notice('good', r.message), h('p', { text: 'The link works once, for one hour.' }),
        h('p', {}, h('a', { href: '/signin.html', text: 'Back to sign in' }))));
    } catch (err) {
      button.disabled = false;
      showError(form, err, {});
    }
  });
  fill(main, h('div', { class: 'card narrow auth' },
    h('h1', { text: 'Forgot your password?' }),
    h('p', { text: 'Give the address you signed up with and we send a link to choose a new password.' }),
    form, h('p', { class: 'alt' }, h('a', { href: '/signin.html', text: 'Back to sign in' }))));
  form.email.focus();
}

start();
