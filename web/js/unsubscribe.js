// The unsubscribe link at the foot of a notice: works without signing in.
import { h, fill, notice, params } from './dom.js';
import { boot } from './shell.js';

const main = document.getElementById('main');

async function start() {
  await boot('unsubscribe');
  const token = params().get('token') || '';
  const button = h('button', { type: 'button', class: 'btn primary big', text: 'Stop these notices' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    const res = await fetch(`/api/v1/unsubscribe/${encodeURIComponent(token)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    }).catch(() => null);
    fill(main, h('div', { class: 'card narrow auth' }, h('h1', { text: 'Unsubscribe' }),
      res && res.status === 204
        ? notice('good', 'Done: no more review notices or sales digests. Mail about your account and money still comes.')
        : notice('error', 'This link is not known. Change your notices on your account page.')));
  });
  fill(main, h('div', { class: 'card narrow auth' }, h('h1', { text: 'Unsubscribe' }),
    h('p', { text: 'Stop review notices and sales digests for this account?' }), button));
}

start();
