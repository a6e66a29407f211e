// A licence certificate, with its signature checked by the store.
import { get, query } from './api.js';
import { h, fill, errorBox, params, imageUrl } from './dom.js';
import { boot } from './shell.js';
import { dateTime } from './fmt.js';

const main = document.getElementById('main');
const id = params().get('id') || '';
const token = params().get('token') || '';

function b64bytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// Where the browser has Ed25519 in WebCrypto, check the signature here too.
async function localCheck(c) {
  try {
    const key = await crypto.subtle.importKey('raw', b64bytes(c.public_key), { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, b64bytes(c.signature), new TextEncoder().encode(c.signed_text));
  } catch (e) {
    return null;
  }
}

async function start() {
  await boot('certificate');
  if (!id) { fill(main, h('div', { class: 'empty' }, h('h1', { text: 'No certificate chosen' }))); return; }
  let c;
  try {
    c = await get(`/licences/${encodeURIComponent(id)}/certificate` + query({ token }));
  } catch (e) {
    fill(main, e.status === 404
      ? h('div', { class: 'empty' }, h('h1', { text: 'No such licence' }), h('p', { text: 'Check the licence number and try again.' }))
      : errorBox(e, start));
    return;
  }
  const cert = c.certificate;
  const verdict = h('p', { class: 'verdict', id: 'verdict', role: 'status', text: 'Checking the signature…' });
  const local = h('p', { class: 'small muted', id: 'local-check' });
  document.title = `Licence ${cert.licence_id} · Stockroom`;
  fill(main, h('article', { class: 'card certificate', 'aria-labelledby': 'cert-title' },
    h('div', { class: 'seal', text: `${cert.store} · licence certificate` }),
    h('h1', { id: 'cert-title', text: cert.image.title || 'Untitled photo' }),
    verdict, local,
    c.refunded ? h('p', { class: 'notice error', text: 'This licence was refunded and is no longer valid.' }) : null,
    h('dl', { class: 'facts', id: 'cert-facts' },
      h('dt', { text: 'Licence number' }), h('dd', { class: 'mono', text: cert.licence_id }),
      h('dt', { text: 'Licensee' }), h('dd', { text: cert.licensee.name }),
      h('dt', { text: 'Photo' }), h('dd', {}, h('a', { href: imageUrl(cert.image.id), text: cert.image.title || cert.image.id }), ' ', h('span', { class: 'mono muted', text: cert.image.id })),
      h('dt', { text: 'Contributor' }), h('dd', { text: (cert.contributor || cert.image.contributor || {}).name || '' }),
      h('dt', { text: 'Size' }), h('dd', { text: cert.size }),
      h('dt', { text: 'Licence type' }), h('dd', { id: 'cert-type', text: cert.type }),
      h('dt', { text: 'Terms version' }), h('dd', { text: cert.terms_version }),
      h('dt', { text: 'Issued' }), h('dd', { text: `${dateTime(cert.date)} (${cert.date})` }),
      h('dt', { text: 'File SHA-256' }), h('dd', { class: 'mono', text: cert.file_sha256 })),
    h('details', { class: 'spaced-top' }, h('summary', { text: 'Check it yourself' }),
      h('p', { class: 'small', text: `The signed text below is signed with ${c.algorithm}. Anyone can check the signature with the store’s public key, offline.` }),
      h('dl', { class: 'facts small' },
        h('dt', { text: 'Public key' }), h('dd', { class: 'mono', text: c.public_key }),
        h('dt', { text: 'Signature' }), h('dd', { class: 'mono', text: c.signature })),
      h('pre', { class: 'signed', text: c.signed_text })),
    h('div', { class: 'row no-print spaced-top' },
      h('button', { type: 'button', class: 'btn', text: 'Print', onclick: () => print() }),
      h('a', { href: '/downloads.html', text: 'My downloads' }))));
  try {
    const v = await get('/licences/verify' + query({ signed_text: c.signed_text, signature: c.signature }));
    verdict.className = `verdict ${v.valid ? 'valid' : 'invalid'}`;
    verdict.textContent = v.valid
      ? (v.refunded ? '✓ Genuine, signed by Stockroom — but refunded.' : '✓ Valid: signed by Stockroom and checked just now.')
      : '✗ Invalid: this certificate was not signed by Stockroom.';
  } catch (e) {
    verdict.className = 'verdict invalid';
    verdict.textContent = `The signature could not be checked: ${e.message}`;
  }
  const ok = await localCheck(c);
  if (ok !== null) local.textContent = ok ? 'Your browser checked the Ed25519 signature too: it matches.' : 'Your browser’s own check of the signature failed.';
}

start();
