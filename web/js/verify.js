// The link from the verification mail: confirm the address on arrival.
import { api } from './api.js';
import { h, fill, notice, params } from './dom.js';
import { boot } from './shell.js';

const main = document.getElementById('main');

async function start() {
  const me = await boot('verify');
  const token = params().get('token') || '';
  try {
    await api('POST', `/email-verifications/${encodeURIComponent(token)}`);
    fill(main, h('div', { class: 'card narrow auth' }, h('h1', { text: 'Address confirmed' }),
      notice('good', 'Thank you: your email address is confirmed.'),
      h('p', {}, h('a', { href: me ? '/account.html' : '/signin.html', class: 'btn primary',
        text: me ? 'Your account' : 'Sign in' }))));
  } catch (err) {
    fill(main, h('div', { class: 'card narrow auth' }, h('h1', { text: 'This link does not work' }),
      notice('error', err.message),
      h('p', { text: 'Sign in and ask for a new link on your account page.' }),
      h('p', {}, h('a', { href: '/account.html', class: 'btn primary', text: 'Your account' }))));
  }
}

start();
