// The review desk: the queue oldest first, one photo at a time with its
// near duplicates beside it. Keys: J/K next and previous, A approve,
// R reject (then pick a reason with the arrow keys, Tab, type, Enter).
import { api, get } from './api.js';
import { h, fill, errorBox, notice, loading, imageUrl } from './dom.js';
import { boot } from './shell.js';
import { bytes, date, megapixels } from './fmt.js';

const main = document.getElementById('main');
const REASONS = [
  ['keyword_spam', 'Keyword spam'], ['poor_quality', 'Poor quality'], ['trademark', 'Trademark or logo'],
  ['similar_content', 'Similar content'], ['release_missing', 'Release missing'], ['other', 'Other'],
];
let items = [];
let index = 0;
let busy = false;
let queueEl, deskEl, countEl, flash;

function describeMatch(m) {
  const bits = [`distance ${m.distance}`];
  if (m.rotated_or_mirrored) bits.push('rotated or mirrored');
  bits.push(m.status.replace('_', ' '));
  return bits.join(' · ');
}

function drawQueue() {
  countEl.textContent = items.length ? `${items.length} waiting` : 'empty';
  fill(queueEl, items.map((it, i) => {
    const b = h('button', { type: 'button', 'aria-current': String(i === index), dataset: { id: it.id } },
      it.thumbnail_url ? h('img', { src: it.thumbnail_url, alt: '', loading: 'lazy' }) : h('img', { alt: '' }),
      h('span', { text: it.title || 'Untitled' }),
      it.matches && it.matches.some((m) => m.possible_theft) ? h('span', { class: 'badge bad', text: 'theft?' }) : null,
      it.pending_edit ? h('span', { class: 'badge warn', text: 'edit' }) : null,
      it.own ? h('span', { class: 'badge', text: 'yours' }) : null);
    b.addEventListener('click', () => { index = i; draw(); });
    return h('li', {}, b);
  }));
}

function draw() {
  drawQueue();
  const it = items[index];
  if (!it) {
    deskEl.removeAttribute('data-current');
    fill(deskEl, h('div', { class: 'empty', id: 'queue-empty' }, h('h2', { text: 'The queue is empty' }),
      h('p', { text: 'Nice work. New uploads appear here by themselves.' }),
      h('button', { type: 'button', class: 'btn', text: 'Check again', onclick: load })));
    return;
  }
  deskEl.dataset.current = it.id;
  const reasons = h('fieldset', { class: 'reasons', id: 'reasons' }, h('legend', { text: 'Reason for rejecting' }),
    REASONS.map(([code, label], i) => h('label', {}, h('input', { type: 'radio', name: 'reason_code', value: code, checked: i === 0 }), label)));
  const sentence = h('input', { type: 'text', id: 'reject-reason', name: 'reason', maxlength: 1000, placeholder: 'One sentence for the contributor', autocomplete: 'off' });
  const rejectForm = h('form', { class: 'decide', id: 'reject-form' }, reasons,
    h('div', { class: 'field' }, h('label', { for: 'reject-reason', text: 'Note to the contributor' }), sentence),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn danger', id: 'reject' }, 'Reject ', h('kbd', { text: 'R' }))));
  rejectForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const code = rejectForm.querySelector('input[name="reason_code"]:checked').value;
    decide('reject', code, sentence.value.trim());
  });
  const approve = h('button', { type: 'button', class: 'btn primary big', id: 'approve' }, 'Approve ', h('kbd', { text: 'A' }));
  approve.addEventListener('click', () => decide('approve'));
  const matches = it.matches || [];
  const long = Math.max(it.width, it.height);
  // An approved photo is here for the change its contributor made to its
  // text: the reviewer decides on the change, shown beside what is live.
  const edit = it.pending_edit;
  const editBox = edit ? h('div', { class: 'card held-edit', id: 'held-edit' },
    h('h3', { text: 'Proposed change to an approved photo' }),
    h('p', {}, h('strong', { text: edit.title || 'Untitled' })),
    edit.description ? h('p', { text: edit.description }) : null,
    edit.keywords.length ? h('ul', { class: 'keywords', 'aria-label': 'Proposed keywords' }, edit.keywords.map((k) => h('li', {}, h('span', { class: 'badge', text: k })))) : null) : null;
  const decideBox = it.own
    ? h('div', { class: 'card decide' }, h('p', { id: 'own-image', text: 'This is your own photo: another reviewer decides on it.' }))
    : h('div', { class: 'card decide' }, approve, rejectForm);
  fill(deskEl,
    flash,
    h('div', { class: 'compare' },
      h('div', {},
        h('div', { class: 'preview' }, it.preview_url
          ? h('img', { src: it.preview_url, alt: `Photo under review: ${it.title || 'untitled'}`, width: Math.round(it.width * Math.min(800, long) / long), height: Math.round(it.height * Math.min(800, long) / long) })
          : h('p', { class: 'muted', text: 'No preview yet.' })),
        h('h2', { id: 'review-title', text: it.title || 'Untitled' }),
        it.description ? h('p', { text: it.description }) : h('p', { class: 'muted', text: 'No description.' }),
        it.keywords.length ? h('ul', { class: 'keywords', 'aria-label': 'Keywords' }, it.keywords.map((k) => h('li', {}, h('span', { class: 'badge', text: k })))) : h('p', { class: 'muted', text: 'No keywords.' }),
        h('dl', { class: 'facts' },
          h('dt', { text: 'Contributor' }), h('dd', {}, h('a', { href: `/?contributor=${encodeURIComponent(it.contributor.id)}`, text: it.contributor.name })),
          h('dt', { text: 'Pixels' }), h('dd', { text: `${it.width} × ${it.height} (${megapixels(it.width, it.height)})` }),
          h('dt', { text: 'File' }), h('dd', { text: `${(it.format || '').toUpperCase()} · ${bytes(it.file_size || 0)}` }),
          h('dt', { text: 'Camera' }), h('dd', { text: [it.camera_make, it.camera_model].filter(Boolean).join(' ') || '—' }),
          h('dt', { text: 'Taken' }), h('dd', { text: it.date_taken || '—' }),
          h('dt', { text: 'Uploaded' }), h('dd', { text: date(it.created_at) }),
          h('dt', { text: 'Shows' }), h('dd', { text: [it.people && 'recognisable people', it.property && 'private property'].filter(Boolean).join(', ') || '—' }),
          h('dt', { text: 'Releases' }), h('dd', { id: 'releases' }, (it.releases || []).length
            ? (it.releases || []).map((r) => h('a', { href: r.file_url, target: '_blank', rel: 'noopener', text: `${r.kind}: ${r.name}` }))
            : (it.people || it.property ? h('span', { class: 'badge bad', text: 'none attached' }) : '—'))),
        it.editorial ? h('p', {}, h('span', { class: 'badge editorial', text: 'Editorial use only' }), ' ', it.caption || '') : null,
        it.appeal ? notice('warn', h('strong', { text: 'Appeal: ' }), it.appeal.message) : null),
      h('div', {},
        h('h3', { text: matches.length ? `Near duplicates (${matches.length})` : 'Near duplicates' }),
        matches.length ? h('ul', { class: 'matches', id: 'matches' }, matches.map((m) => h('li', { class: ['match', m.possible_theft && 'theft'] },
          h('img', { src: m.thumbnail_url, alt: `Similar photo: ${m.title || 'untitled'}` }),
          h('div', {}, h('strong', { text: m.title || 'Untitled' }), h('div', { class: 'small muted', text: describeMatch(m) }),
            m.possible_theft ? h('span', { class: 'badge bad', text: 'Possible theft: another contributor’s photo' }) : h('span', { class: 'badge', text: 'same contributor' }),
            m.status === 'approved' ? h('div', {}, h('a', { href: imageUrl(m.image_id), target: '_blank', rel: 'noopener', text: 'Open' })) : null))))
          : h('p', { class: 'muted', text: 'No near duplicates found in the catalogue.' }),
        editBox, decideBox)));
}

async function decide(decision, reason_code, reason) {
  const it = items[index];
  if (!it || busy) return;
  busy = true;
  const body = { decision };
  if (decision === 'reject') { body.reason_code = reason_code; body.reason = reason || ''; }
  try {
    await api('POST', `/images/${encodeURIComponent(it.id)}/review`, body);
    fill(flash, notice(decision === 'approve' ? 'good' : 'warn', `${decision === 'approve' ? 'Approved' : 'Rejected'}: `, h('strong', { text: it.title || 'Untitled' })));
    items.splice(index, 1);
    if (index >= items.length) index = Math.max(0, items.length - 1);
  } catch (e) {
    fill(flash, errorBox(e));
    if (e.code === 'not_pending') items.splice(index, 1);
  }
  busy = false;
  draw();
  deskEl.focus();
}

async function load() {
  try {
    const q = await get('/review/queue?limit=100');
    const current = items[index] && items[index].id;
    items = q.items;
    index = Math.max(0, items.findIndex((i) => i.id === current));
    draw();
  } catch (e) {
    fill(deskEl, errorBox(e, load));
  }
}

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  const typing = t && (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || (t.tagName === 'INPUT' && t.type !== 'radio' && t.type !== 'checkbox'));
  if (typing) {
    if (e.key === 'Escape') { t.blur(); deskEl.focus(); }
    return;
  }
  const inReject = t && t.closest && t.closest('#reject-form');
  if (inReject) {
    if (e.key === 'Escape') deskEl.focus();
    return;
  }
  const k = e.key.toLowerCase();
  if (k === 'j' || k === 'k') {
    e.preventDefault();
    if (!items.length) return;
    index = k === 'j' ? Math.min(items.length - 1, index + 1) : Math.max(0, index - 1);
    draw();
    deskEl.focus();
  } else if (k === 'a') {
    e.preventDefault();
    decide('approve');
  } else if (k === 'r') {
    e.preventDefault();
    const checked = deskEl.querySelector('input[name="reason_code"]:checked');
    if (checked) checked.focus();
  }
}

async function start() {
  await boot('review', 'reviewer|admin');
  countEl = h('span', { class: 'badge', id: 'queue-count' });
  queueEl = h('ul', { class: 'queue', id: 'queue', 'aria-label': 'Review queue' });
  deskEl = h('section', { class: 'desk', id: 'desk', tabindex: '-1', 'aria-label': 'Photo under review' }, loading('Loading the queue…'));
  flash = h('div', { 'aria-live': 'polite', id: 'flash' });
  fill(main,
    h('div', { class: 'row' }, h('h1', { text: 'Review desk' }), countEl, h('span', { class: 'spacer' }),
      h('p', { class: 'small muted', id: 'keys' }, h('kbd', { text: 'J' }), ' / ', h('kbd', { text: 'K' }), ' next / previous · ',
        h('kbd', { text: 'A' }), ' approve · ', h('kbd', { text: 'R' }), ' reject: choose a reason with the arrow keys, ',
        h('kbd', { text: 'Tab' }), ' to the note, ', h('kbd', { text: 'Enter' }))),
    h('div', { class: 'review' }, h('nav', { 'aria-label': 'Queue' }, queueEl), deskEl));
  document.addEventListener('keydown', onKey);
  await load();
  deskEl.focus();
  setInterval(() => { if (!document.hidden && !busy && !(document.activeElement && document.activeElement.closest('#reject-form'))) load(); }, 20000);
}

start();
