// The buyer's licences: download again at any time, open the certificate.
import { api, get, query } from './api.js';
import { h, fill, errorBox, loading, imageUrl } from './dom.js';
import { boot } from './shell.js';
import { plural, date } from './fmt.js';

const main = document.getElementById('main');
const list = h('ul', { class: 'licences', id: 'licences', hidden: true });
const tbody = list;
const more = h('div', { class: 'more' });
let cursor = null;

function row(l) {
  const name = l.image_title || `Photo ${l.image_id}`;
  return h('li', { class: 'card licence', dataset: { id: l.id } },
    h('a', { href: imageUrl(l.image_id), class: 'licence-thumb' }, h('img', { src: l.thumbnail_url, alt: name, width: 120, height: 90, loading: 'lazy' })),
    h('div', { class: 'licence-body' },
      h('h2', {}, h('a', { href: imageUrl(l.image_id), text: name })),
      h('div', { class: 'row small' },
        h('span', { class: 'badge', text: `size ${l.size}` }),
        h('span', { class: `badge ${l.type === 'extended' ? 'warn' : ''}`, text: `${l.type} licence` }),
        h('span', { class: 'muted', text: `${plural(l.credits, 'credit')} · ${date(l.created_at)}` })),
      h('div', { class: 'small muted mono', text: `Licence ${l.id}` }),
      h('div', { class: 'row' }, l.refunded
        ? h('span', { class: 'badge bad', text: 'refunded' })
        : h('a', { href: l.download_url, download: '', class: 'btn small primary', text: 'Download', 'aria-label': `Download ${name}, size ${l.size}` }),
      h('a', { href: `/certificate.html?id=${encodeURIComponent(l.id)}`, class: 'btn small', text: 'Certificate', 'aria-label': `Licence certificate for ${name}` }),
      shareButton(l, name))));
}

// The certificate names the buyer, so only a link the buyer chooses to
// hand out shows it to anyone else.
function shareButton(l, name) {
  const out = h('span', { class: 'share-out' });
  const btn = h('button', {
    type: 'button', class: 'btn small share-certificate', text: 'Share certificate', 'aria-label': `Share the certificate for ${name}`,
    onclick: async () => {
      try {
        const s = await api('POST', `/licences/${encodeURIComponent(l.id)}/share`);
        const link = new URL(s.page_url, location.origin).href;
        const field = h('input', { type: 'text', readonly: true, class: 'share-link', value: link, 'aria-label': 'Link to the certificate' });
        fill(out, field);
        field.select();
      } catch (e) {
        fill(out, errorBox(e));
      }
    },
  });
  return h('span', {}, btn, out);
}

async function load() {
  fill(more, loading());
  try {
    const page = await get('/me/licences' + query({ limit: 50, cursor }));
    for (const l of page.items) tbody.append(row(l));
    cursor = page.next_cursor;
    if (!tbody.firstChild) {
      fill(main.querySelector('#dl-body'), h('div', { class: 'empty' }, h('h2', { text: 'No downloads yet' }),
        h('p', { text: 'Photos you licence appear here, ready to download again whenever you need them.' }),
        h('a', { href: '/', class: 'btn primary', text: 'Find photos' })));
    }
    list.hidden = !tbody.firstChild;
    fill(more, cursor ? h('button', { type: 'button', class: 'btn', text: 'Show older licences', onclick: load }) : null);
  } catch (e) {
    fill(more, errorBox(e, load));
  }
}

async function start() {
  await boot('downloads', 'buyer');
  fill(main, h('h1', { text: 'My downloads' }),
    h('p', { class: 'muted', text: 'Every licence you hold. Download the file again as often as you need, and show the signed certificate to anyone who asks.' }),
    h('div', { id: 'dl-body' }, list), more);
  load();
}

start();
