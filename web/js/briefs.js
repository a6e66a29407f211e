// Briefs: a buyer posts the photo they cannot find with a bounty in escrow;
// contributors answer privately; the buyer shortlists, comments, awards.
// /briefs.html lists open briefs (?new=1 opens the form, &q= fills it);
// /brief.html?id= is one brief, as its buyer or as a contributor sees it.
import { api, get, query, upload, newKey } from './api.js';
import { h, fill, errorBox, notice, loading, params } from './dom.js';
import { boot, currentUser, hasRole, refreshMe } from './shell.js';
import { field, clearErrors, showError } from './forms.js';
import { plural, date, dateTime, percent } from './fmt.js';

const main = document.getElementById('main');
const p = params();
const one = location.pathname.endsWith('/brief.html');
const enc = encodeURIComponent;
const briefUrl = (id) => `/brief.html?id=${enc(id)}`;

function meta(b) {
  const rec = b.buyer_record;
  return h('div', { class: 'brief-meta' },
    h('span', { class: 'bounty', text: `${plural(b.bounty_credits, 'credit')} bounty` }),
    h('span', { text: `${plural(b.winners, 'winner')} at most` }),
    h('span', { text: `deadline ${dateTime(b.deadline)}` }),
    h('span', { text: plural(b.submission_count, 'submission') }),
    h('span', { text: `buyer awarded ${rec.awarded} of ${rec.ended} ended briefs` }));
}

function card(b) {
  return h('article', { class: 'card brief-card' },
    h('h2', {}, h('a', { href: briefUrl(b.id), text: b.title })),
    meta(b),
    b.description ? h('p', { text: b.description }) : null,
    h('p', { class: 'small muted', text: b.keywords.join(', ') }));
}

// ---- the list and the form -----------------------------------------------

function postForm(q) {
  const min = new Date(Date.now() + 86400000 * 2);
  const form = h('form', { id: 'brief-form', class: 'card', novalidate: true },
    h('h2', { text: 'Post a brief' }),
    h('p', { class: 'muted', text: 'Say what you need. The bounty leaves your credits now and is held until you award it; if you award nobody it comes back.' }),
    h('div', { class: 'form-error' }),
    field('title', 'What photo do you need?', { maxlength: 120, value: q || '', required: true }),
    field('description', 'Details', { tag: 'textarea', maxlength: 4000, rows: 3 }),
    field('keywords', 'Keywords', { value: q || '', required: true }, 'Comma-separated'),
    h('div', { class: 'row' },
      field('bounty_credits', 'Bounty (credits)', { type: 'number', min: 20, value: 20 }),
      field('winners', 'Winners', { type: 'number', min: 1, max: 5, value: 1 }),
      field('deadline', 'Deadline', { type: 'date', value: min.toISOString().slice(0, 10) }),
      h('div', { class: 'field' }, h('label', { for: 'licence_type', text: 'Licence' }),
        h('select', { id: 'licence_type', name: 'licence_type' },
          h('option', { value: 'standard', text: 'Standard' }), h('option', { value: 'extended', text: 'Extended' })))),
    h('button', { type: 'submit', class: 'btn primary', id: 'brief-post', text: 'Post the brief' }));
  const key = newKey();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const v = (n) => form.querySelector(`#${n}`).value.trim();
    try {
      const b = await api('POST', '/briefs', {
        title: v('title'), description: v('description'), keywords: v('keywords'),
        bounty_credits: Number(v('bounty_credits')), winners: Number(v('winners')),
        deadline: `${v('deadline')}T23:59:59Z`, licence_type: v('licence_type'),
      }, { idem: key });
      location.assign(briefUrl(b.id));
    } catch (err) {
      showError(form, err, { bounty_too_small: 'bounty_credits', invalid_deadline: 'deadline', insufficient_credits: 'bounty_credits' });
    }
  });
  return form;
}

async function listPage() {
  const user = currentUser();
  const list = h('div', { class: 'brief-list', id: 'briefs' }, loading());
  const search = h('form', { class: 'row', role: 'search', id: 'brief-search' },
    h('label', { for: 'brief-q', class: 'visually-hidden', text: 'Search briefs' }),
    h('input', { id: 'brief-q', type: 'search', placeholder: 'Search briefs', value: p.get('q') || '' }),
    h('select', { id: 'brief-sort', 'aria-label': 'Sort' },
      h('option', { value: 'newest', text: 'Newest' }), h('option', { value: 'bounty', text: 'Biggest bounty' }),
      h('option', { value: 'deadline', text: 'Deadline soonest' })),
    h('button', { type: 'submit', class: 'btn', text: 'Search' }));
  const load = async () => {
    fill(list, loading());
    try {
      const r = await get('/briefs' + query({ q: search.querySelector('#brief-q').value.trim(), sort: search.querySelector('#brief-sort').value }));
      fill(list, r.items.length ? r.items.map(card) : h('p', { class: 'muted', text: 'No open briefs match.' }));
    } catch (err) { fill(list, errorBox(err, load)); }
  };
  search.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  const showForm = p.get('new') && user;
  fill(main, h('h1', { text: 'Briefs' }),
    h('p', { class: 'muted', text: 'Buyers describe the photo they could not find and put credits on it. Contributors answer; the buyer picks.' }),
    user ? (showForm ? postForm(p.get('q')) : h('p', {}, h('a', { class: 'btn primary', href: '/briefs.html?new=1', text: 'Post a brief' })))
      : h('p', {}, h('a', { href: `/signin.html?next=${enc('/briefs.html?new=1')}`, text: 'Sign in to post a brief' })),
    search, list);
  load();
}

// ---- one brief -----------------------------------------------------------

function subCard(s, buyer, b, ctx) {
  const el = h('div', { class: 'card sub', dataset: { sid: s.id } },
    h('img', { src: s.thumbnail_url, alt: buyer ? 'A submitted photo' : 'Your submitted photo' }),
    h('div', { class: 'small muted', text: `${s.counted ? 'counted' : s.image_status.replace('_', ' ')} · ${date(s.created_at)}${s.shortlisted ? ' · shortlisted' : ''}` }),
    s.comments.map((c) => h('p', { class: 'comment', text: c.text })),
    s.award ? h('p', { class: 'notice ok', text: `Won ${plural(s.award.credits, 'credit')}` }) : null);
  if (buyer && s.award) el.append(h('a', { class: 'btn small download', href: s.award.download_url, download: true, text: 'Download' }));
  if (!buyer || b.status !== 'open') return el;
  const open = b.accepting_submissions;
  const pick = h('input', { type: 'checkbox', class: 'pick', id: `pick-${s.id}`, onchange: () => { el.classList.toggle('picked', pick.checked); ctx.changed(); } });
  const row = h('div', { class: 'row' }, h('label', { for: `pick-${s.id}` }, pick, ' Pick'));
  if (open) {
    row.append(h('button', { type: 'button', class: 'btn small', text: s.shortlisted ? 'Unshortlist' : 'Shortlist',
      onclick: async () => {
        try { await api(s.shortlisted ? 'DELETE' : 'PUT', `/briefs/${enc(b.id)}/submissions/${enc(s.id)}/shortlist`); ctx.reload(); } catch (err) { ctx.error(err); }
      } }));
    const form = h('form', { class: 'row' },
      h('label', { for: `c-${s.id}`, class: 'visually-hidden', text: 'Comment' }),
      h('input', { id: `c-${s.id}`, class: 'comment-text', maxlength: 1000, placeholder: 'A comment for its contributor' }),
      h('button', { type: 'submit', class: 'btn small', text: 'Comment' }));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const text = form.querySelector('input').value.trim();
      if (!text) return;
      try { await api('POST', `/briefs/${enc(b.id)}/submissions/${enc(s.id)}/comments`, { text }); ctx.reload(); } catch (err) { ctx.error(err); }
    });
    el.append(row, form);
  } else el.append(row);
  return el;
}

function buyerTools(b, out, reload) {
  const tools = h('div', { class: 'row' });
  if (b.status !== 'open') return tools;
  if (b.submission_count === 0) {
    tools.append(h('button', { type: 'button', class: 'btn danger', id: 'brief-cancel', text: 'Cancel and refund',
      onclick: async () => { try { await api('DELETE', `/briefs/${enc(b.id)}`); await refreshMe(); reload(); } catch (err) { fill(out, errorBox(err)); } } }));
  } else {
    const form = h('form', { class: 'row', id: 'close-form' },
      h('label', { for: 'close-reason', text: 'Close without award:' }),
      h('input', { id: 'close-reason', maxlength: 500, placeholder: 'Why none fits' }),
      h('button', { type: 'submit', class: 'btn danger', text: 'Close' }));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try { await api('POST', `/briefs/${enc(b.id)}/close`, { reason: form.querySelector('input').value.trim() }); await refreshMe(); reload(); } catch (err) { fill(out, errorBox(err)); }
    });
    tools.append(form);
  }
  return tools;
}

function contributorTools(b, out, reload) {
  if (!b.accepting_submissions) return h('p', { class: 'muted', text: 'This brief no longer takes submissions.' });
  const mine = h('select', { id: 'my-photo', 'aria-label': 'One of your photos' }, h('option', { value: '', text: 'Loading your photos…' }));
  const submit = async (imageId) => {
    try { await api('POST', `/briefs/${enc(b.id)}/submissions`, { image_id: imageId }); reload(); } catch (err) { fill(out, errorBox(err)); }
  };
  get('/me/images?limit=100').then((r) => {
    const ok = r.items.filter((i) => ['approved', 'pending_review', 'processing'].includes(i.status));
    fill(mine, ok.length ? ok.map((i) => h('option', { value: i.id, text: `${i.title} (${i.status.replace('_', ' ')})` }))
      : h('option', { value: '', text: 'No photos yet: upload one below' }));
  }).catch((err) => fill(out, errorBox(err)));
  const file = h('input', { type: 'file', id: 'brief-file', accept: 'image/*' });
  const up = h('form', { class: 'row', id: 'brief-upload' },
    h('label', { for: 'brief-file', text: 'Or upload a new photo:' }), file,
    h('input', { id: 'brief-up-title', placeholder: 'Title', maxlength: 200, 'aria-label': 'Title' }),
    h('button', { type: 'submit', class: 'btn', text: 'Upload and submit' }));
  up.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!file.files[0]) return;
    const fd = new FormData();
    fd.append('file', file.files[0]);
    fd.append('title', up.querySelector('#brief-up-title').value.trim() || b.title);
    fd.append('keywords', b.keywords.join(','));
    try {
      fill(out, notice('info', 'Uploading…'));
      const img = await upload('/images', fd, () => {});
      fill(out);
      await submit(img.id);
    } catch (err) { fill(out, errorBox(err)); }
  });
  return h('div', { class: 'card', id: 'answer' }, h('h2', { text: 'Answer this brief' }),
    h('div', { class: 'row' }, mine, h('button', { type: 'button', class: 'btn primary', id: 'submit-photo', text: 'Submit',
      onclick: () => mine.value && submit(mine.value) })), up);
}

async function onePage() {
  const id = p.get('id');
  let b;
  try { b = await get(`/briefs/${enc(id)}`); } catch (e) {
    fill(main, e.status === 404 ? h('div', { class: 'empty' }, h('h1', { text: 'No such brief' }), h('a', { href: '/briefs.html', class: 'btn', text: 'All briefs' })) : errorBox(e, onePage));
    return;
  }
  document.title = `${b.title} · Stockroom`;
  const user = currentUser();
  const out = h('div', { 'aria-live': 'polite', id: 'brief-out' });
  const subs = h('div', { class: 'subs', id: 'subs' });
  const award = h('div', { class: 'confirm-award', id: 'award-area' });
  const ctx = { reload: onePage, error: (err) => fill(out, errorBox(err)), changed: () => {} };
  const status = b.status === 'open' ? (b.accepting_submissions ? 'Open for submissions' : `Waiting for the award (until ${dateTime(b.award_until)})`)
    : { awarded: 'Awarded', closed: 'Closed without award', cancelled: 'Cancelled', expired: 'Expired: no submissions', abandoned: 'Ended without award' }[b.status];
  fill(main, h('p', { class: 'small' }, h('a', { href: '/briefs.html', text: '← All briefs' })),
    h('h1', { text: b.title }), h('p', { class: 'muted', id: 'brief-status', text: status }), meta(b),
    b.description ? h('p', { text: b.description }) : null,
    h('p', { class: 'small muted', text: `Keywords: ${b.keywords.join(', ')} · ${b.licence_type} licence · winners earn ${percent(b.royalty_rate_bp)} royalty` }),
    b.close_reason ? h('p', { class: 'notice', text: `Closed: ${b.close_reason}` }) : null,
    out);
  if (!user) { main.append(h('p', {}, h('a', { href: `/signin.html?next=${enc(location.pathname + location.search)}`, text: 'Sign in to answer this brief' }))); return; }
  if (b.mine) main.append(h('p', { class: 'small', text: `In escrow: ${plural(b.escrow_credits, 'credit')}` }), buyerTools(b, out, onePage));
  else if (hasRole(user, 'contributor')) main.append(contributorTools(b, out, onePage));
  main.append(h('h2', { text: b.mine ? 'Submissions' : 'Your submissions' }), subs, award);
  let list;
  try { list = await get(`/briefs/${enc(b.id)}/submissions`); } catch (err) { fill(subs, errorBox(err)); return; }
  if (!list.items.length) { fill(subs, h('p', { class: 'muted', text: b.mine ? 'No submissions yet.' : 'You have not answered this brief yet.' })); return; }
  if (b.mine && b.status === 'open') {
    ctx.changed = () => {
      const picked = [...subs.querySelectorAll('.pick:checked')].map((c) => c.closest('.sub').dataset.sid);
      if (!picked.length) { fill(award); return; }
      const go = h('button', { type: 'button', class: 'btn primary', id: 'award-button', text: `Award ${plural(picked.length, 'photo')}` });
      go.addEventListener('click', () => {
        const each = Math.floor(b.bounty_credits / picked.length);
        fill(award, notice('info', `Pay ${plural(b.bounty_credits, 'credit')} to ${plural(picked.length, 'winner')} (${each} each) and license the winning photos at full size? This cannot be undone.`),
          h('div', { class: 'row' },
            h('button', { type: 'button', class: 'btn primary', id: 'award-confirm', text: 'Confirm the award',
              onclick: async () => {
                try { await api('POST', `/briefs/${enc(b.id)}/awards`, { submission_ids: picked }); onePage(); } catch (err) { fill(out, errorBox(err)); }
              } }),
            h('button', { type: 'button', class: 'btn', text: 'Not yet', onclick: () => ctx.changed() })));
      });
      fill(award, picked.length > b.winners ? h('p', { class: 'notice error', text: `Pick at most ${b.winners}.` }) : go);
    };
  }
  fill(subs, list.items.map((s) => subCard(s, b.mine, b, ctx)));
}

async function start() {
  await boot('briefs', null);
  if (one) onePage(); else listPage();
}

start();
