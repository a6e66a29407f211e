// Lightboxes: collections of photos to come back to or share. Without an
// id: the list. With ?id=: one lightbox; with &token= a shared one.
import { api, get, query } from './api.js';
import { h, fill, errorBox, notice, loading, params, imageUrl } from './dom.js';
import { boot, currentUser } from './shell.js';
import { field, clearErrors, showError } from './forms.js';
import { plural, date } from './fmt.js';

const main = document.getElementById('main');
const p = params();
const id = p.get('id');
const token = p.get('token');

function shareUrl(lb) {
  return `${location.origin}/lightboxes.html?id=${encodeURIComponent(lb.id)}&token=${encodeURIComponent(lb.share_token)}`;
}

async function listPage() {
  const out = h('div', { 'aria-live': 'polite' });
  const grid = h('div', { class: 'boxes', id: 'boxes' }, loading());
  const form = h('form', { id: 'new-lightbox', class: 'card', novalidate: true },
    h('div', { class: 'form-error' }),
    h('div', { class: 'row' }, field('name', 'New lightbox', { maxlength: 127, placeholder: 'e.g. Spring campaign', required: true }),
      h('button', { type: 'submit', class: 'btn primary', text: 'Create' })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    try {
      const lb = await api('POST', '/lightboxes', { name: form.querySelector('#name').value.trim() });
      location.assign(`/lightboxes.html?id=${encodeURIComponent(lb.id)}`);
    } catch (err) {
      showError(form, err, { invalid_field: 'name' });
    }
  });
  fill(main, h('h1', { text: 'Lightboxes' }),
    h('p', { class: 'muted', text: 'Collect photos for a project, then share the collection with a link.' }), form, out, grid);
  const load = async () => {
    try {
      const list = await get('/lightboxes');
      if (!list.items.length) { fill(grid, h('p', { class: 'muted', text: 'No lightboxes yet. Create one, or use “Save to a lightbox” on any photo.' })); return; }
      fill(grid, list.items.map((lb) => {
        const url = `/lightboxes.html?id=${encodeURIComponent(lb.id)}`;
        const del = h('button', { type: 'button', class: 'btn small danger', text: 'Delete', 'aria-label': `Delete lightbox ${lb.name}` });
        del.addEventListener('click', async () => {
          if (!confirm(`Delete the lightbox “${lb.name}”? The photos stay in the store.`)) return;
          try { await api('DELETE', `/lightboxes/${encodeURIComponent(lb.id)}`); load(); } catch (err) { fill(out, errorBox(err)); }
        });
        return h('div', { class: 'card box' },
          h('a', { href: url, class: 'cover', tabindex: '-1', 'aria-hidden': 'true' }, lb.cover_url ? h('img', { src: lb.cover_url, alt: '' }) : null),
          h('div', { class: 'body' }, h('h2', {}, h('a', { href: url, text: lb.name })),
            h('div', { class: 'small muted' }, `${plural(lb.image_count, 'photo')} · ${lb.share_token ? 'shared' : 'private'} · ${date(lb.created_at)}`),
            h('div', { class: 'row' }, h('a', { href: url, class: 'btn small', text: 'Open' }), del)));
      }));
    } catch (err) {
      fill(grid, errorBox(err, load));
    }
  };
  load();
}

async function onePage() {
  let lb;
  try {
    lb = await get(`/lightboxes/${encodeURIComponent(id)}` + query({ token, limit: 100 }));
  } catch (e) {
    if (e.status === 404 || e.status === 401) {
      fill(main, h('div', { class: 'empty' }, h('h1', { text: 'This lightbox is not available' }),
        h('p', { text: token ? 'The link may have been turned off by its owner.' : 'It may have been deleted, or it belongs to someone else.' }),
        currentUser() ? h('a', { href: '/lightboxes.html', class: 'btn', text: 'Your lightboxes' }) : h('a', { href: '/', class: 'btn', text: 'Search photos' })));
    } else fill(main, errorBox(e, onePage));
    return;
  }
  const owner = 'share_token' in lb;
  const out = h('div', { 'aria-live': 'polite', id: 'lb-out' });
  const title = h('h1', { id: 'lb-name', text: lb.name });
  document.title = `${lb.name} · Stockroom`;
  const grid = h('div', { class: 'grid', id: 'lb-grid' });
  const draw = () => {
    fill(grid, lb.items.map((it) => {
      const t = h('div', { class: 'tile lb-item', vars: { '--r': Math.min(Math.max(it.width / it.height, .4), 3.5).toFixed(3) } },
        h('a', { href: imageUrl(it.id) }, h('img', { src: it.thumbnail_url, alt: it.title || 'Untitled photo', loading: 'lazy' })));
      if (owner) {
        const rm = h('button', { type: 'button', class: 'btn small', text: 'Remove', 'aria-label': `Remove “${it.title || 'untitled'}” from this lightbox` });
        rm.addEventListener('click', async () => {
          try {
            await api('DELETE', `/lightboxes/${encodeURIComponent(lb.id)}/images/${encodeURIComponent(it.id)}`);
            lb.items = lb.items.filter((x) => x.id !== it.id);
            draw();
          } catch (err) { fill(out, errorBox(err)); }
        });
        t.append(rm);
      }
      return t;
    }));
    if (!lb.items.length) grid.append(h('p', { class: 'muted', text: 'No photos here yet. Use “Save to a lightbox” on a photo’s page.' }));
  };
  draw();
  const tools = h('div', { class: 'card', id: 'lb-tools' });
  const drawTools = () => {
    if (!owner) return;
    const rename = h('form', { class: 'row', id: 'rename-form' },
      h('label', { for: 'rename', class: 'label', text: 'Name' }), h('input', { id: 'rename', type: 'text', value: lb.name, maxlength: 127 }),
      h('button', { type: 'submit', class: 'btn small', text: 'Rename' }));
    rename.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        const r = await api('PATCH', `/lightboxes/${encodeURIComponent(lb.id)}`, { name: rename.querySelector('input').value.trim() });
        lb.name = r.name; title.textContent = r.name; fill(out, notice('good', 'Renamed.'));
      } catch (err) { fill(out, errorBox(err)); }
    });
    const share = h('div', { class: 'share' });
    if (lb.share_token) {
      const url = h('input', { type: 'text', readOnly: true, value: shareUrl(lb), id: 'share-url', class: 'share-url' });
      const copy = h('button', { type: 'button', class: 'btn small', text: 'Copy link' });
      copy.addEventListener('click', async () => {
        url.select();
        try { await navigator.clipboard.writeText(url.value); copy.textContent = 'Copied'; } catch (e) { copy.textContent = 'Press Ctrl+C'; }
      });
      const stop = h('button', { type: 'button', class: 'btn small danger', text: 'Stop sharing' });
      stop.addEventListener('click', () => setShared(false));
      share.append(h('label', { for: 'share-url', class: 'label', text: 'Anyone with this link can see the lightbox' }),
        h('div', { class: 'row' }, url, copy, stop));
    } else {
      const go = h('button', { type: 'button', class: 'btn primary small', id: 'share-button', text: 'Share with a link' });
      go.addEventListener('click', () => setShared(true));
      share.append(h('p', { class: 'small muted', text: 'Only you can see this lightbox.' }), go);
    }
    fill(tools, rename, h('div', { class: 'spaced' }), share);
  };
  const setShared = async (shared) => {
    try {
      const r = await api('PATCH', `/lightboxes/${encodeURIComponent(lb.id)}`, { shared });
      lb.share_token = r.share_token;
      drawTools();
      if (shared) main.querySelector('#share-url')?.focus();
    } catch (err) { fill(out, errorBox(err)); }
  };
  drawTools();
  fill(main,
    owner ? h('p', { class: 'small' }, h('a', { href: '/lightboxes.html', text: '← All lightboxes' })) : h('p', { class: 'small muted', text: 'A shared lightbox' }),
    title, h('p', { class: 'muted', text: plural(lb.image_count, 'photo') }),
    owner ? tools : null, out, h('div', { class: 'spaced' }), grid);
}

async function start() {
  await boot('lightboxes', id ? null : 'user');
  if (id) onePage(); else listPage();
}

start();
