import { api, setCsrf } from './api.js';
import { h, fill, safeNext, params } from './dom.js';
import { boot, goNext } from './shell.js';
import { field, clearErrors, showError } from './forms.js';

const main = document.getElementById('main');

async function start() {
  const me = await boot('signup');
  const next = safeNext(params().get('next'), '/');
  if (me) {
    fill(main, h('div', { class: 'card narrow auth' }, h('h1', { text: 'You already have an account' }),
      h('p', { text: `Signed in as ${me.email}.` }), h('p', {}, h('a', { href: next, class: 'btn primary', text: 'Continue' }))));
    return;
  }
  const button = h('button', { type: 'submit', class: 'btn primary big', text: 'Create account' });
  const form = h('form', { id: 'signup-form', novalidate: true },
    h('div', { class: 'form-error', 'aria-live': 'assertive' }),
    field('name', 'Your name', { autocomplete: 'name', required: true, maxlength: 100 }, 'Shown on your photos and licences.'),
    field('email', 'Email', { type: 'email', autocomplete: 'email', required: true }),
    field('password', 'Password', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10 }, 'At least 10 characters.'),
    button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    button.disabled = true;
    const body = { name: form.querySelector('#name').value.trim(), email: form.email.value.trim(), password: form.password.value };
    try {
      await api('POST', '/users', body);
      const s = await api('POST', '/sessions', { email: body.email, password: body.password });
      setCsrf(s.csrf_token);
      goNext('/');
    } catch (err) {
      button.disabled = false;
      showError(form, err, { email_taken: 'email', invalid_email: 'email', weak_password: 'password', invalid_name: 'name' });
    }
  });
  fill(main, h('div', { class: 'card narrow auth' },
    h('h1', { text: 'Create your account' }),
    h('p', { class: 'muted', text: 'One account to buy licences and to sell your own photos.' }), form,
    h('p', { class: 'alt' }, 'Already have an account? ', h('a', { href: `/signin.html?next=${encodeURIComponent(next)}`, text: 'Sign in' }))));
  form.querySelector('#name').focus();
}

start();
