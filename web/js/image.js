// One photo: the watermarked preview, its facts, sizes and prices, the
// licence button, lightboxes and similar photos.
import { api, get, newKey } from './api.js';
import { h, fill, errorBox, notice, params, here } from './dom.js';
import { boot, setCredits, hasRole } from './shell.js';
import { tile } from './grid.js';
import { plural, date, megapixels } from './fmt.js';

const main = document.getElementById('main');
const id = params().get('id') || '';
let me = null;
let img = null;
let held = [];

function keywordList(words) {
  return h('ul', { class: 'keywords', 'aria-label': 'Keywords' },
    words.map((k) => h('li', {}, h('a', { href: `/?q=${encodeURIComponent(k)}`, text: k }))));
}

function buyPanel() {
  const box = h('section', { class: 'card buy', 'aria-labelledby': 'buy-title' });
  const result = h('div', { id: 'licence-result', 'aria-live': 'polite' });
  let size = img.sizes.length ? img.sizes[img.sizes.length > 1 ? 1 : 0].name : null;
  let type = 'standard';
  const button = h('button', { type: 'submit', class: 'btn primary big', id: 'licence-button' });
  const rows = [];

  const price = () => {
    const s = img.sizes.find((x) => x.name === size);
    return s ? (type === 'extended' ? s.extended_credits : s.credits) : 0;
  };
  const heldNow = () => held.find((l) => l.size === size && l.type === type && !l.refunded);
  const update = () => {
    for (const r of rows) r.tr.classList.toggle('sel', r.name === size);
    const n = price();
    button.textContent = heldNow() ? `Licence again for ${plural(n, 'credit')}` : `Licence ${size} for ${plural(n, 'credit')}`;
    fill(result);
    const l = heldNow();
    if (l) result.append(notice('good', 'You already hold this licence. ',
      h('a', { href: l.download_url, download: '', text: 'Download again' }), ' · ',
      h('a', { href: `/certificate.html?id=${encodeURIComponent(l.id)}`, text: 'Certificate' })));
  };

  const table = h('table', { class: 'sizes' },
    h('caption', { class: 'small muted', text: 'Prices in credits' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Size' }), h('th', { scope: 'col', text: 'Pixels' }),
      h('th', { scope: 'col', class: 'num', text: 'Standard' }), h('th', { scope: 'col', class: 'num', text: 'Extended' }))),
    h('tbody', {}, img.sizes.map((s) => {
      const radio = h('input', { type: 'radio', name: 'size', value: s.name, id: `size-${s.name}`, checked: s.name === size });
      radio.addEventListener('change', () => { size = s.name; update(); });
      const tr = h('tr', {},
        h('td', {}, h('label', { for: `size-${s.name}` }, radio, s.name)),
        h('td', { class: 'nowrap' }, `${s.width} × ${s.height}`),
        h('td', { class: 'num' }, String(s.credits)),
        h('td', { class: 'num' }, String(s.extended_credits)));
      rows.push({ name: s.name, tr });
      return tr;
    })));

  const types = h('fieldset', { class: 'types' }, h('legend', { class: 'visually-hidden', text: 'Licence type' }),
    [['standard', 'Standard', img.editorial ? 'Editorial use only: news, commentary, education' : 'Web, print up to 500,000 copies'],
      ['extended', 'Extended', 'Merchandise, unlimited print runs']].filter(([v]) => !img.editorial || v === 'standard').map(([v, label, hint]) => {
      const r = h('input', { type: 'radio', name: 'type', value: v, id: `type-${v}`, checked: v === type });
      r.addEventListener('change', () => { type = v; update(); });
      return h('label', { for: `type-${v}` }, r, ' ', label, h('small', { text: hint }));
    }));

  const form = h('form', { id: 'licence-form' }, h('div', { class: 'table-wrap' }, table), types, button, result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!me) {
      fill(result, notice('warn', h('a', { href: `/signin.html?next=${encodeURIComponent(here())}`, text: 'Sign in' }),
        ' or ', h('a', { href: `/signup.html?next=${encodeURIComponent(here())}`, text: 'create an account' }), ' to licence this photo.'));
      return;
    }
    button.disabled = true;
    fill(result, h('p', { class: 'muted', role: 'status', text: 'Licensing…' }));
    try {
      const l = await api('POST', '/licences', { image_id: img.id, size, type }, { idem: newKey() });
      held.push(l);
      const dl = h('a', { href: l.download_url, download: '', class: 'btn primary', id: 'download-link', text: `Download ${l.size}` });
      fill(result, notice('good',
        h('p', {}, h('strong', { text: l.already_held ? 'You already hold this licence — here it is again.' : 'Licensed. Thank you!' }),
          ` ${plural(l.credits, 'credit')} spent.`),
        h('div', { class: 'row' }, dl,
          h('a', { href: `/certificate.html?id=${encodeURIComponent(l.id)}`, class: 'btn', id: 'certificate-link', text: 'Licence certificate' }),
          h('a', { href: '/downloads.html', text: 'All downloads' }))));
      const m = await api('GET', '/me').catch(() => null);
      if (m) setCredits(m.credits);
      dl.focus();
    } catch (err) {
      if (err.code === 'insufficient_credits') {
        fill(result, notice('warn', h('p', {}, h('strong', { text: 'Not enough credits. ' }),
          `This licence costs ${plural(price(), 'credit')} and you have ${plural(me.credits || 0, 'credit')}.`),
          h('a', { href: `/credits.html?next=${encodeURIComponent(here())}`, class: 'btn primary', id: 'buy-credits', text: 'Buy credits' })));
      } else if (err.status === 401) {
        fill(result, notice('warn', 'Your session ended. ', h('a', { href: `/signin.html?next=${encodeURIComponent(here())}`, text: 'Sign in again' }), '.'));
      } else {
        fill(result, errorBox(err));
      }
    } finally {
      button.disabled = false;
    }
  });

  box.append(h('h2', { id: 'buy-title', text: 'Licence this photo' }), form);
  update();
  return box;
}

async function lightboxPanel() {
  const box = h('section', { class: 'card', 'aria-labelledby': 'lb-title' }, h('h2', { id: 'lb-title', text: 'Save to a lightbox' }));
  if (!me) {
    box.append(h('p', { class: 'muted' }, h('a', { href: `/signin.html?next=${encodeURIComponent(here())}`, text: 'Sign in' }), ' to collect photos in lightboxes.'));
    return box;
  }
  const out = h('div', { 'aria-live': 'polite' });
  const sel = h('select', { id: 'lb-select' });
  const nameField = h('input', { type: 'text', id: 'lb-new', placeholder: 'New lightbox name', maxlength: 127 });
  const newWrap = h('div', { class: 'field', hidden: true }, h('label', { for: 'lb-new', text: 'Name of the new lightbox' }), nameField);
  let boxes = [];
  try { boxes = (await get('/lightboxes')).items; } catch (e) { boxes = []; }
  for (const b of boxes) sel.append(h('option', { value: b.id, text: `${b.name} (${b.image_count})` }));
  sel.append(h('option', { value: '', text: 'New lightbox…' }));
  const sync = () => { newWrap.hidden = sel.value !== ''; };
  sel.addEventListener('change', sync);
  sync();
  const form = h('form', { id: 'lb-form' },
    h('div', { class: 'field' }, h('label', { for: 'lb-select', text: 'Lightbox' }), sel), newWrap,
    h('button', { type: 'submit', class: 'btn', text: 'Add to lightbox' }), out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      let lbId = sel.value, lbName;
      if (!lbId) {
        const created = await api('POST', '/lightboxes', { name: nameField.value.trim() || 'My lightbox' });
        lbId = created.id;
        lbName = created.name;
        sel.insertBefore(h('option', { value: lbId, text: `${lbName} (0)` }), sel.lastChild);
        sel.value = lbId;
        sync();
      } else {
        lbName = boxes.find((b) => b.id === lbId)?.name || 'the lightbox';
      }
      await api('PUT', `/lightboxes/${encodeURIComponent(lbId)}/images/${encodeURIComponent(img.id)}`);
      fill(out, notice('good', 'Added to ', h('a', { href: `/lightboxes.html?id=${encodeURIComponent(lbId)}`, text: lbName }), '.'));
    } catch (err) {
      fill(out, errorBox(err));
    }
  });
  box.append(form);
  return box;
}

// Anyone may report a photo: copyright, privacy, offensive, other.
function reportPanel() {
  const reasons = [['copyright', 'It is my work (copyright)'], ['privacy', 'It invades my privacy'], ['offensive', 'It is offensive'], ['other', 'Something else']];
  const select = h('select', { id: 'report-reason', name: 'reason' }, reasons.map(([v, t]) => h('option', { value: v, text: t })));
  const details = h('textarea', { id: 'report-details', name: 'details', rows: 3, maxlength: 2000 });
  const email = h('input', { type: 'email', id: 'report-email', name: 'contact_email', maxlength: 254, autocomplete: 'email' });
  const result = h('div', { id: 'report-result', 'aria-live': 'polite' });
  const form = h('form', { id: 'report-form' },
    h('div', { class: 'field' }, h('label', { for: 'report-reason', text: 'Reason' }), select),
    h('div', { class: 'field' }, h('label', { for: 'report-details', text: 'What is wrong' }), details),
    h('div', { class: 'field' }, h('label', { for: 'report-email', text: 'Your email, for an answer' }), email),
    h('button', { type: 'submit', class: 'btn small', text: 'Send report' }), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('POST', `/images/${encodeURIComponent(img.id)}/reports`,
        { reason: select.value, details: details.value.trim(), contact_email: email.value.trim() });
      fill(form, notice('good', 'Thank you: the report reached the store’s staff.'));
    } catch (err) {
      fill(result, notice('error', err.message));
    }
  });
  return h('details', { class: 'card report' }, h('summary', { text: 'Report this photo' }), form);
}

async function render() {
  const [image, myLicences] = await Promise.all([
    get(`/images/${encodeURIComponent(id)}`),
    me && hasRole(me, 'buyer') ? get('/me/licences?limit=100').catch(() => ({ items: [] })) : { items: [] },
  ]);
  img = image;
  held = myLicences.items.filter((l) => l.image_id === img.id);
  document.title = `${img.title || 'Untitled photo'} · Stockroom`;
  const long = Math.max(img.width, img.height);
  const pw = Math.round(img.width * Math.min(800, long) / long), ph = Math.round(img.height * Math.min(800, long) / long);
  const preview = img.preview_url
    ? h('img', { src: img.preview_url, alt: img.title ? `Preview of “${img.title}” (watermarked)` : 'Watermarked preview', width: pw, height: ph, id: 'preview' })
    : h('p', { class: 'muted', text: 'The preview is still being made.' });
  const status = img.status !== 'approved'
    ? notice('warn', `This photo is ${img.status.replace('_', ' ')} and not on sale yet. Only you and the reviewers can see it.`) : null;
  const facts = h('dl', { class: 'facts' },
    h('dt', { text: 'Original' }), h('dd', { text: `${img.width} × ${img.height} px (${megapixels(img.width, img.height)})` }),
    h('dt', { text: 'Orientation' }), h('dd', { text: img.orientation }),
    h('dt', { text: 'Colour' }), h('dd', { text: img.colour || '—' }),
    h('dt', { text: 'Added' }), h('dd', { text: date(img.created_at) }),
    h('dt', { text: 'Licensed' }), h('dd', { text: plural(img.licences_sold || 0, 'time') }));
  const side = h('div', { class: 'side' });
  const contributorLink = h('a', { href: `/?contributor=${encodeURIComponent(img.contributor.id)}`, id: 'contributor-link', text: img.contributor.name });
  fill(main,
    status,
    h('div', { class: 'image-page' },
      h('div', {},
        h('div', { class: 'preview' }, preview),
        h('h1', { id: 'image-title', text: img.title || 'Untitled photo' }),
        img.editorial ? h('p', { class: 'editorial-label', id: 'editorial-label' },
          h('span', { class: 'badge editorial', text: 'Editorial use only' }), ' ', img.caption || '') : null,
        h('p', { class: 'byline' }, 'by ', contributorLink),
        img.description ? h('p', { id: 'image-description', text: img.description }) : null,
        img.keywords.length ? keywordList(img.keywords) : null,
        facts),
      side));
  if (img.status === 'approved' && img.sizes.length) side.append(buyPanel());
  else if (img.status === 'approved') side.append(notice('warn', 'This photo has no size on sale.'));
  if (img.status === 'approved') side.append(await lightboxPanel());
  if (img.status === 'approved') side.append(reportPanel());
  if (img.similar && img.similar.length) {
    main.append(h('section', { 'aria-labelledby': 'similar-title' },
      h('h2', { id: 'similar-title', text: 'Similar photos' }),
      h('div', { class: 'grid similar' }, img.similar.map((s) => tile(s)))));
  }
}

async function start() {
  me = await boot('image');
  if (!id) {
    fill(main, h('div', { class: 'empty' }, h('h1', { text: 'No photo chosen' }), h('p', {}, h('a', { href: '/', text: 'Search for photos' }))));
    return;
  }
  try {
    await render();
  } catch (e) {
    if (e.status === 410) {
      fill(main, h('div', { class: 'empty' }, h('h1', { text: 'This photo is no longer on sale' }),
        h('p', { text: 'Licences already bought stay valid: find them under My downloads.' }),
        h('p', {}, h('a', { href: '/', class: 'btn', text: 'Search for photos' }))));
    } else if (e.status === 404) {
      fill(main, h('div', { class: 'empty' }, h('h1', { text: 'This photo is not here' }),
        h('p', { text: 'It may have been removed, or it is not published yet.' }),
        h('p', {}, h('a', { href: '/', class: 'btn', text: 'Search for photos' }))));
    } else {
      fill(main, errorBox(e, () => { fill(main); start(); }));
    }
  }
}

start();
