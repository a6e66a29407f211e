// The upload studio: drop many photos at once, watch each one upload,
// then edit titles and keywords (one by one or for a selection) while the
// list follows each photo through processing and review.
import { api, get, upload } from './api.js';
import { h, fill, errorBox, loading, imageUrl } from './dom.js';
import { boot } from './shell.js';
import { field } from './forms.js';
import { bytes, plural } from './fmt.js';

const main = document.getElementById('main');
const PARALLEL = 3;
const REASONS = {
  keyword_spam: 'Keyword spam', poor_quality: 'Poor quality', trademark: 'Trademark or logo',
  similar_content: 'Too similar to other photos', release_missing: 'Model or property release missing', other: 'Other',
};
const STATUS = {
  processing: 'Processing', pending_review: 'Waiting for review', approved: 'On sale', rejected: 'Rejected', failed: 'Failed',
  draft: 'Draft', withdrawn: 'Withdrawn', taken_down: 'Taken down',
};
const MISSING = { title: 'a title', keywords: 'at least five keywords' };

const queue = [];
let active = 0;
const rows = new Map();           // image id -> { li, inputs, data }
let uploadsList, mineList, bulkBar, bulkCount, mineCursor = null, pollTimer = null, batchTitle, batchKeywords;

function addFiles(files) {
  for (const file of files) {
    const thumb = h('img', { alt: '', class: 'ph' });
    const url = URL.createObjectURL(file);
    thumb.src = url;
    thumb.addEventListener('error', () => { thumb.removeAttribute('src'); }, { once: true });
    thumb.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
    const bar = h('progress', { max: 100, value: 0, 'aria-label': `Upload progress of ${file.name}` });
    const msg = h('div', { class: 'small muted msg', text: `${bytes(file.size)} · waiting` });
    const li = h('li', { class: 'upload-row', dataset: { name: file.name } }, thumb,
      h('div', {}, h('div', { class: 'name', text: file.name }), bar), h('div', {}, msg));
    li.lastChild.classList.add('msg-wrap');
    uploadsList.append(li);
    queue.push({ file, li, bar, msg });
  }
  pump();
}

function pump() {
  while (active < PARALLEL && queue.length) {
    const job = queue.shift();
    active++;
    send(job).finally(() => { active--; pump(); });
  }
}

async function send({ file, li, bar, msg }) {
  const form = new FormData();
  form.append('file', file, file.name);
  if (batchTitle.value.trim()) form.append('title', batchTitle.value.trim());
  if (batchKeywords.value.trim()) form.append('keywords', batchKeywords.value.trim());
  msg.textContent = 'Uploading…';
  try {
    const r = await upload('/images', form, (done, total) => {
      bar.value = Math.floor(done * 100 / total);
      msg.textContent = `Uploading… ${bar.value}%`;
    });
    bar.value = 100;
    li.classList.add('done');
    li.dataset.id = r.id;
    fill(msg, 'Uploaded — now being processed. Edit it below.');
    poll();
  } catch (e) {
    li.classList.add('bad');
    bar.hidden = true;
    const existing = e.code === 'duplicate' && e.body && e.body.error && e.body.error.image_id;
    fill(msg, h('strong', { text: 'Refused: ' }), e.message,
      existing ? h('span', {}, ' ', h('a', { href: imageUrl(existing), text: 'See the earlier upload' })) : null);
    msg.classList.remove('muted');
    msg.setAttribute('role', 'alert');
  }
}

function dropZone() {
  const input = h('input', { type: 'file', id: 'file-input', multiple: true, accept: 'image/jpeg,image/png,image/webp,image/tiff,image/heic,image/heif,image/avif,.heic,.heif,.avif,.tif,.tiff', class: 'visually-hidden' });
  input.addEventListener('change', () => { addFiles([...input.files]); input.value = ''; });
  const zone = h('div', { class: 'drop', id: 'drop-zone' },
    h('div', { class: 'big-text', text: 'Drag and drop photos here' }),
    h('p', { class: 'muted', text: 'JPEG, PNG, WebP, TIFF, HEIF/HEIC or AVIF, up to 50 MB each. Drop as many as you like.' }),
    input, h('label', { for: 'file-input', class: 'btn primary', text: 'Choose photos' }));
  let depth = 0;
  zone.addEventListener('dragenter', (e) => { e.preventDefault(); depth++; zone.classList.add('over'); });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'; });
  zone.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; zone.classList.remove('over'); } });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove('over');
    const files = [...(e.dataTransfer ? e.dataTransfer.files : [])];
    if (files.length) addFiles(files);
  });
  // A photo dropped outside the zone should not replace the page.
  addEventListener('dragover', (e) => e.preventDefault());
  addEventListener('drop', (e) => e.preventDefault());
  return zone;
}

// ---- your photos ---------------------------------------------------------

function stateLine(img) {
  const parts = [h('span', { class: `badge ${img.status}`, text: STATUS[img.status] || img.status })];
  if (img.status === 'pending_review' && img.queue_position) parts.push(h('span', { class: 'queue-pos', text: `number ${img.queue_position} in the review queue` }));
  if (img.status === 'processing') parts.push(h('span', { class: 'muted', text: 'making the thumbnail and preview…' }));
  if (img.status === 'rejected') parts.push(h('span', {}, h('strong', { text: REASONS[img.reject_code] || img.reject_code || 'Rejected' }),
    img.reject_reason ? `: ${img.reject_reason}` : ''));
  if (img.status === 'failed') parts.push(h('span', { text: img.fail_reason || 'Processing failed.' }));
  if (img.status === 'draft') {
    const missing = (img.missing || []).map((m) => MISSING[m] || m);
    parts.push(h('span', { class: 'missing', text: missing.length ? `Needs ${missing.join(' and ')} before review.` : 'Ready for review.' }),
      h('button', { type: 'button', class: 'btn small primary submit-draft', text: 'Send to review', onclick: () => act(img, 'POST', '/submit') }));
  }
  if (img.status === 'withdrawn') parts.push(h('button', { type: 'button', class: 'btn small restore', text: 'Restore', onclick: () => act(img, 'POST', '/restore') }));
  if (img.status === 'taken_down') parts.push(h('span', { text: img.off_sale_reason || 'Taken down by the store.' }));
  if (img.status === 'rejected' && !img.appeal) parts.push(h('button', { type: 'button', class: 'btn small appeal', text: 'Appeal', onclick: () => appeal(img) }));
  if (img.status === 'approved') parts.push(h('a', { href: imageUrl(img.id), text: 'View on sale' }),
    h('span', { class: 'muted', text: `${plural(img.views || 0, 'view')} · ${plural(img.licences_sold || 0, 'licence')} sold` }));
  if (img.editorial) parts.push(h('span', { class: 'badge editorial', text: 'Editorial use only' }));
  if (['approved', 'pending_review', 'draft', 'rejected'].includes(img.status)) {
    parts.push(h('button', { type: 'button', class: 'btn small withdraw', text: 'Take off sale', onclick: () => act(img, 'DELETE', '') }));
  }
  return parts;
}

// Submit, withdraw or restore one photo; the row shows the answer or why not.
async function act(img, method, tail) {
  const row = rows.get(img.id);
  try {
    const fresh = await api(method, `/images/${encodeURIComponent(img.id)}${tail}`);
    if (row) applyData(row, fresh, false);
  } catch (e) {
    if (row) row.state.append(h('span', { class: 'field-error', role: 'alert', text: e.message }));
  }
}

// The appeal asks for its message in place.
function appeal(img) {
  const row = rows.get(img.id);
  if (!row) return;
  const input = h('input', { type: 'text', class: 'appeal-message', maxlength: 4000, 'aria-label': 'Why should the photo be looked at again?', placeholder: 'Why should it be looked at again?' });
  const form = h('form', { class: 'row' }, input, h('button', { type: 'submit', class: 'btn small primary', text: 'Send appeal' }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!input.value.trim()) return;
    try {
      applyData(row, await api('POST', `/images/${encodeURIComponent(img.id)}/appeal`, { message: input.value.trim() }), true);
    } catch (err) {
      row.state.append(h('span', { class: 'field-error', role: 'alert', text: err.message }));
    }
  });
  row.state.append(form);
  input.focus();
}

function thumbFor(img) {
  if (!img.thumbnail_url) return h('div', { class: 'ph', role: 'img', 'aria-label': 'Thumbnail not ready yet' });
  return h('img', { src: img.thumbnail_url, alt: img.title || 'Untitled photo', width: 120, height: 90, loading: 'lazy' });
}

function mineRow(img) {
  const p = `m-${img.id}`;
  const check = h('input', { type: 'checkbox', id: `${p}-sel`, 'aria-label': `Select “${img.title || 'untitled photo'}” for editing together` });
  const title = field(`${p}-title`, 'Title', { value: img.title, maxlength: 200, dataset: { f: 'title' } });
  const kw = field(`${p}-keywords`, 'Keywords', { value: img.keywords.join(', '), placeholder: 'separated, by, commas', dataset: { f: 'keywords' } });
  const desc = field(`${p}-description`, 'Description', { tag: 'textarea', value: img.description || '', rows: 1, maxlength: 2000, dataset: { f: 'description' } });
  const save = h('button', { type: 'button', class: 'btn small primary', text: 'Save', disabled: true });
  const saved = h('span', { class: 'small muted', 'aria-live': 'polite' });
  const state = h('div', { class: 'state' });
  const thumbWrap = h('div', { class: 'thumb-wrap' }, thumbFor(img));
  const li = h('li', { class: 'mine-row', dataset: { id: img.id } }, h('div', {}, check), thumbWrap,
    h('div', { class: 'meta' }, state, title, kw, h('div', { class: 'wide desc-row' }, desc, h('div', { class: 'save-box' }, save, saved))));
  const inputs = [...li.querySelectorAll('[data-f]')];
  const row = { li, inputs, data: img, state, thumbWrap, check, dirty: false };
  for (const i of inputs) i.addEventListener('input', () => { row.dirty = true; save.disabled = false; fill(saved); });
  save.addEventListener('click', async () => {
    save.disabled = true;
    const body = {};
    for (const i of inputs) body[i.dataset.f] = i.dataset.f === 'keywords' ? splitKeywords(i.value) : i.value.trim();
    await patch(row, body, saved, save);
  });
  check.addEventListener('change', () => { li.classList.toggle('selected', check.checked); updateBulk(); });
  fill(state, stateLine(img));
  return row;
}

function splitKeywords(text) {
  return [...new Set(text.split(',').map((k) => k.trim().toLowerCase()).filter(Boolean))];
}

async function patch(row, body, saved, save) {
  try {
    const img = await api('PATCH', `/images/${encodeURIComponent(row.data.id)}`, body);
    // A change to an approved photo waits for a reviewer: the fields keep
    // showing it, while the store still shows the approved text.
    const edit = img.pending_edit;
    row.dirty = false;
    applyData(row, edit ? { ...img, title: edit.title, description: edit.description, keywords: edit.keywords } : img, true);
    fill(saved, edit ? 'Saved: the change waits for review.' : 'Saved.');
    return true;
  } catch (e) {
    if (save) save.disabled = false;
    fill(saved, h('span', { class: 'field-error', role: 'alert', text: e.message }));
    return false;
  }
}

function applyData(row, img, fields) {
  const before = row.data;
  row.data = img;
  if (fields || !row.dirty) {
    for (const i of row.inputs) {
      if (document.activeElement === i && !fields) continue;
      i.value = i.dataset.f === 'keywords' ? img.keywords.join(', ') : (img[i.dataset.f] || '');
    }
  }
  if (before.status !== img.status || before.queue_position !== img.queue_position || before.views !== img.views ||
      String(before.missing) !== String(img.missing) ||
      before.licences_sold !== img.licences_sold || fields) fill(row.state, stateLine(img));
  if (!before.thumbnail_url && img.thumbnail_url) fill(row.thumbWrap, thumbFor(img));
}

async function poll() {
  clearTimeout(pollTimer);
  try {
    const page = await get('/me/images?limit=100');
    const fresh = [];
    for (const img of page.items) {
      const row = rows.get(img.id);
      if (row) applyData(row, img, false);
      else fresh.push(img);
    }
    // New photos go on top, newest first, as the list is ordered.
    for (const img of fresh.reverse()) {
      const row = mineRow(img);
      rows.set(img.id, row);
      mineList.prepend(row.li);
    }
    if (mineCursor === null && rows.size >= 100) mineCursor = page.next_cursor;
    renderEmpty();
    const busy = page.items.some((i) => i.status === 'processing' || i.status === 'pending_review');
    pollTimer = setTimeout(poll, busy || queue.length || active ? 2000 : 10000);
  } catch (e) {
    pollTimer = setTimeout(poll, 10000);
  }
}

function renderEmpty() {
  const e = main.querySelector('#mine-empty');
  if (e) e.hidden = rows.size > 0;
}

function selected() {
  return [...rows.values()].filter((r) => r.check.checked);
}

function updateBulk() {
  const n = selected().length;
  bulkBar.hidden = n === 0;
  bulkCount.textContent = `${plural(n, 'photo')} selected`;
}

function bulkEditor() {
  bulkCount = h('strong', { id: 'bulk-count' });
  const result = h('span', { class: 'small', 'aria-live': 'polite' });
  const form = h('form', { id: 'bulk-form', class: 'card' },
    h('div', { class: 'row' }, bulkCount, h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'btn link small', text: 'Select none', onclick: () => { for (const r of rows.values()) { r.check.checked = false; r.li.classList.remove('selected'); } updateBulk(); } })),
    h('div', { class: 'row' },
      field('bulk-title', 'Set title', { placeholder: 'Leave empty to keep each title' }),
      field('bulk-add', 'Add keywords', { placeholder: 'e.g. beach, summer' }),
      field('bulk-description', 'Set description', { placeholder: 'Leave empty to keep' })),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn primary', text: 'Apply to selected' }), result));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const t = form.querySelector('#bulk-title').value.trim();
    const add = splitKeywords(form.querySelector('#bulk-add').value);
    const d = form.querySelector('#bulk-description').value.trim();
    if (!t && !add.length && !d) { fill(result, 'Type a title, keywords or a description first.'); return; }
    let ok = 0;
    const list = selected();
    for (const r of list) {
      const body = {};
      if (t) body.title = t;
      if (d) body.description = d;
      if (add.length) body.keywords = [...new Set([...r.data.keywords, ...add])];
      if (await patch(r, body, r.li.querySelector('[aria-live]'))) ok++;
    }
    fill(result, `Saved ${ok} of ${plural(list.length, 'photo')}.`);
  });
  bulkBar = h('div', { class: 'bulk', hidden: true }, form);
  return bulkBar;
}

async function start() {
  await boot('upload', 'contributor');
  uploadsList = h('ul', { class: 'uploads', id: 'uploads', 'aria-label': 'Uploads' });
  mineList = h('ul', { class: 'mine', id: 'mine' });
  batchTitle = h('input', { id: 'batch-title', type: 'text', maxlength: 200, placeholder: 'Optional: taken from the file otherwise' });
  batchKeywords = h('input', { id: 'batch-keywords', type: 'text', placeholder: 'Optional, e.g. landscape, sunset' });
  fill(main,
    h('h1', { text: 'Upload studio' }),
    h('p', { class: 'muted', text: 'Drop your photos, give them a good title and keywords, and our reviewers will put them on sale. Each photo is checked as it arrives.' }),
    h('details', { class: 'card batch' }, h('summary', { text: 'Title and keywords for the next uploads' }),
      h('div', { class: 'row' },
        h('div', { class: 'field' }, h('label', { for: 'batch-title', text: 'Title' }), batchTitle),
        h('div', { class: 'field' }, h('label', { for: 'batch-keywords', text: 'Keywords' }), batchKeywords))),
    h('div', { class: 'spaced' }),
    dropZone(), uploadsList,
    h('h2', { text: 'Your photos' }),
    h('p', { class: 'muted small', text: 'Select several photos to give them the same title, description or extra keywords at once.' }),
    h('p', { id: 'mine-empty', class: 'muted', hidden: true, text: 'No photos yet: drop your first ones above.' }),
    mineList, bulkEditor());
  mineList.before(h('div', { id: 'mine-loading' }, loading('Loading your photos…')));
  await poll();
  main.querySelector('#mine-loading')?.remove();
  document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); });
}

start().catch((e) => fill(main, errorBox(e)));
