import { api, setCsrf } from './api.js';
import { h, fill, safeNext, params } from './dom.js';
import { boot, goNext } from './shell.js';
import { field, clearErrors, showError } from './forms.js';

const main = document.getElementById('main');

async function start() {
  const me = await boot('signin');
  const next = safeNext(params().get('next'), '/');
  if (me) {
    fill(main, h('div', { class: 'card narrow auth' }, h('h1', { text: 'You are signed in' }),
      h('p', { text: `Signed in as ${me.email}.` }), h('p', {}, h('a', { href: next, class: 'btn primary', text: 'Continue' }))));
    return;
  }
  const button = h('button', { type: 'submit', class: 'btn primary big', text: 'Sign in' });
  const form = h('form', { id: 'signin-form', novalidate: true },
    h('div', { class: 'form-error', 'aria-live': 'assertive' }),
    field('email', 'Email', { type: 'email', autocomplete: 'email', required: true }),
    field('password', 'Password', { type: 'password', autocomplete: 'current-password', required: true }),
    button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    button.disabled = true;
    try {
      const s = await api('POST', '/sessions', { email: form.email.value.trim(), password: form.password.value });
      setCsrf(s.csrf_token);
      goNext('/');
    } catch (err) {
      button.disabled = false;
      showError(form, err, {});
    }
  });
  fill(main, h('div', { class: 'card narrow auth' },
    h('h1', { text: 'Sign in to Stockroom' }), form,
    h('p', { class: 'alt' }, h('a', { href: '/forgot.html', id: 'forgot-link', text: 'Forgot password?' })),
    h('p', { class: 'alt' }, 'New here? ', h('a', { href: `/signup.html?next=${encodeURIComponent(next)}`, text: 'Create an account' }))));
  form.email.focus();
}

start();
