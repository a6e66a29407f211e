// The contributor's dashboard: balances, tier, a chart of earnings by
// month, each photo's numbers, recent sales and payouts.
import { api, get, newKey } from './api.js';
import { h, svg, fill, errorBox, notice, loading, imageUrl } from './dom.js';
import { boot } from './shell.js';
import { field, clearErrors, showError } from './forms.js';
import { money, parseMoney, percent, plural, date, dateTime } from './fmt.js';

const main = document.getElementById('main');
const REFRESH_MS = 15000;
let images = new Map();
let timer = null;

function stat(label, value, id, hint) {
  return h('div', { class: 'card stat' }, h('div', { class: 'label', text: label }),
    h('div', { class: 'value', id, text: value }), hint ? h('div', { class: 'small muted', text: hint }) : null);
}

function lastMonths(byMonth, n = 12) {
  const have = new Map(byMonth.map((m) => [m.month, m]));
  const out = [];
  const now = new Date();
  let y = now.getUTCFullYear(), m = now.getUTCMonth() + 1;
  const latest = byMonth.map((x) => x.month).sort().pop();
  if (latest) { const [ly, lm] = latest.split('-').map(Number); if (ly * 12 + lm > y * 12 + m) { y = ly; m = lm; } }
  for (let i = 0; i < n; i++) {
    const key = `${y}-${String(m).padStart(2, '0')}`;
    out.unshift(have.get(key) || { month: key, licences: 0, cents: 0 });
    if (--m === 0) { m = 12; y--; }
  }
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function chart(byMonth) {
  const months = lastMonths(byMonth);
  const W = 640, H = 220, L = 56, B = 28, T = 12;
  const max = Math.max(100, ...months.map((m) => m.cents));
  // A round top for the axis: 1, 2 or 5 times a power of ten, in cents.
  let step = 1;
  while (step * 10 < max) step *= 10;
  const top = [1, 2, 5, 10].map((k) => k * step).find((v) => v >= max);
  const y = (c) => T + (H - T - B) * (1 - c / top);
  const bw = (W - L - 8) / months.length;
  const el = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-title chart-desc', id: 'earnings-chart' },
    svg('title', { id: 'chart-title', text: 'Earnings by month' }),
    svg('desc', { id: 'chart-desc', text: months.map((m) => `${m.month}: ${money(m.cents)}`).join('; ') }));
  for (const f of [0, 0.5, 1]) {
    const c = Math.round(top * f);
    el.append(svg('line', { class: 'axis', x1: L, x2: W, y1: y(c), y2: y(c) }),
      svg('text', { x: L - 6, y: y(c) + 4, 'text-anchor': 'end', text: money(c) }));
  }
  months.forEach((m, i) => {
    const x = L + i * bw + 4, hgt = Math.max(m.cents ? 2 : 0, y(0) - y(m.cents));
    el.append(svg('rect', { class: 'bar', x: x.toFixed(1), y: (y(0) - hgt).toFixed(1), width: (bw - 8).toFixed(1), height: hgt.toFixed(1), rx: 3, dataset: null },
      svg('title', { text: `${m.month}: ${money(m.cents)} from ${plural(m.licences, 'licence')}` })),
    svg('text', { x: (x + (bw - 8) / 2).toFixed(1), y: H - 8, 'text-anchor': 'middle', text: MONTHS[Number(m.month.slice(5)) - 1] }));
  });
  return el;
}

function titleOf(id) {
  const img = images.get(id);
  return img ? img.title || 'Untitled photo' : `Photo ${id}`;
}

function perImage(e) {
  const earned = new Map(e.by_image.map((b) => [b.image_id, b]));
  const list = [...images.values()];
  for (const b of e.by_image) if (!images.has(b.image_id)) list.push({ id: b.image_id, title: '', status: 'approved', views: 0 });
  if (!list.length) return h('p', { class: 'muted' }, 'No photos yet. ', h('a', { href: '/upload.html', text: 'Upload your first' }), '.');
  list.sort((a, b) => (earned.get(b.id)?.cents || 0) - (earned.get(a.id)?.cents || 0) || (b.views || 0) - (a.views || 0));
  return h('div', { class: 'table-wrap' }, h('table', { id: 'per-image' },
    h('thead', {}, h('tr', {}, ['', 'Photo', 'Status', 'Views', 'Licences', 'Earned'].map((t, i) => h('th', { scope: 'col', class: i >= 3 ? 'num' : null, text: t })))),
    h('tbody', {}, list.map((img) => {
      const b = earned.get(img.id) || { licences: 0, cents: 0 };
      return h('tr', { dataset: { id: img.id } },
        h('td', {}, h('img', { class: 'thumb', src: img.thumbnail_url || `/images/${img.id}/thumbnail.jpg`, alt: titleOf(img.id), width: 64, height: 48, loading: 'lazy' })),
        h('td', {}, h('a', { href: imageUrl(img.id), text: titleOf(img.id) })),
        h('td', {}, h('span', { class: `badge ${img.status}`, text: img.status.replace('_', ' ') }),
          img.pending_edit ? h('span', { class: 'badge warn', title: `Waiting for review: ${img.pending_edit.title}`, text: 'edit pending review' }) : null),
        h('td', { class: 'num', text: String(img.views || 0) }),
        h('td', { class: 'num', text: String(b.licences) }),
        h('td', { class: 'num', text: money(b.cents) }));
    }))));
}

function sales(e) {
  if (!e.sales.length) return h('p', { class: 'muted', id: 'sales-empty', text: 'No sales yet. They appear here the moment a buyer licenses one of your photos.' });
  return h('div', { class: 'table-wrap' }, h('table', { id: 'sales' },
    h('thead', {}, h('tr', {}, ['Date', 'Photo', 'Licence', 'Price', 'Rate', 'Your share'].map((t, i) => h('th', { scope: 'col', class: i >= 3 ? 'num' : null, text: t })))),
    h('tbody', {}, e.sales.map((s) => h('tr', { class: s.refunded ? 'muted' : null },
      h('td', { class: 'nowrap', text: dateTime(s.date) }),
      h('td', {}, h('a', { href: imageUrl(s.image_id), text: titleOf(s.image_id) })),
      h('td', { class: 'nowrap' }, `${s.size} ${s.type}`, s.refunded ? h('span', { class: 'badge bad', text: 'refunded' }) : null),
      h('td', { class: 'num', text: `${money(s.cash_cents)} (${plural(s.credits, 'credit')})` }),
      h('td', { class: 'num', text: percent(s.royalty_rate_bp) }),
      h('td', { class: 'num share', text: money(s.share_cents) }))))));
}

function payoutForm(e, refresh) {
  const form = h('form', { id: 'payout-form', novalidate: true },
    h('div', { class: 'form-error' }),
    field('amount_cents', 'Amount in dollars', { inputmode: 'decimal', placeholder: '25.00', autocomplete: 'off' },
      `Payouts start at ${money(e.payout_minimum_cents)}. Available: ${money(e.balance_cents)}.`),
    h('button', { type: 'submit', class: 'btn primary', text: 'Request payout' }), h('div', { class: 'payout-out', 'aria-live': 'polite' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const input = form.querySelector('#amount_cents');
    const cents = parseMoney(input.value);
    const out = form.querySelector('.payout-out');
    if (cents === null || cents <= 0) {
      showError(form, { code: 'bad_amount', message: 'Type an amount in dollars, like 25.00.' }, { bad_amount: 'amount_cents' });
      return;
    }
    try {
      const p = await api('POST', '/payouts', { amount_cents: cents }, { idem: newKey() });
      fill(out, notice('good', p.status === 'paid'
        ? `Payout of ${money(p.amount_cents)} sent to your Stripe account.`
        : `Payout of ${money(p.amount_cents)} requested. It is sent within a few days.`));
      input.value = '';
      refresh();
    } catch (err) {
      showError(form, err, { below_minimum: 'amount_cents', insufficient_balance: 'amount_cents' });
      if (err.code === 'transfer_refused') refresh();
    }
  });
  return form;
}

// Stripe Connect: the payout account's state and the way to set it up.
// A store that pays by hand answers 409 payouts_by_hand: show nothing.
async function payoutAccount() {
  let a;
  try {
    a = await get('/me/payout-account');
  } catch (e) {
    return null;
  }
  const state = { none: 'Not set up', onboarding: 'Waiting for Stripe to finish checking your details', enabled: 'Ready: payouts go to your bank through Stripe' }[a.status] || a.status;
  const btn = a.status === 'enabled' ? null
    : h('button', { type: 'button', class: 'btn', id: 'setup-payouts', text: a.status === 'none' ? 'Set up payouts' : 'Continue setting up payouts' });
  const box = h('div', { id: 'payout-account' }, h('p', { class: 'small' }, 'Payout account: ', h('strong', { id: 'payout-account-status', text: state })), btn);
  if (btn) {
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        const r = await api('POST', '/me/payout-account');
        location.assign(r.onboarding_url);
      } catch (err) {
        btn.disabled = false;
        if (err.code !== 'payouts_by_hand') box.append(errorBox(err));
      }
    });
  }
  return box;
}

async function payouts() {
  try {
    const l = await get('/me/payouts');
    if (!l.items.length) return h('p', { class: 'muted small', text: 'No payouts yet.' });
    return h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Requested', 'Amount', 'Status'].map((t, i) => h('th', { scope: 'col', class: i === 1 ? 'num' : null, text: t })))),
      h('tbody', {}, l.items.map((p) => h('tr', {}, h('td', { text: date(p.requested_at) }), h('td', { class: 'num', text: money(p.amount_cents) }),
        h('td', {}, h('span', { class: `badge ${p.status === 'paid' ? 'good' : p.status === 'failed' ? 'bad' : 'warn'}`, text: p.status })))))));
  } catch (e) {
    return errorBox(e);
  }
}

async function loadImages() {
  const m = new Map();
  let cursor = null;
  do {
    const page = await get('/me/images?limit=100' + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''));
    for (const i of page.items) m.set(i.id, i);
    cursor = page.next_cursor;
  } while (cursor && m.size < 1000);
  images = m;
}

// Briefs this contributor won, with what each earned.
function briefWins(w) {
  if (!w.items.length) return h('p', { class: 'muted', id: 'brief-wins' }, 'No brief wins yet. ', h('a', { href: '/briefs.html', text: 'Answer a brief' }));
  return h('div', { id: 'brief-wins' },
    h('p', { class: 'small muted', text: `${plural(w.items.length, 'win')}, ${money(w.total_royalty_cents)} earned` }),
    h('ul', {}, w.items.map((x) => h('li', {},
      h('a', { href: `/brief.html?id=${encodeURIComponent(x.brief_id)}`, text: x.brief_title }),
      ` · ${plural(x.credits, 'credit')} · ${money(x.royalty_cents)} · ${date(x.created_at)}`))));
}

async function render(first) {
  clearTimeout(timer);
  let e, wins;
  try {
    [e, , wins] = await Promise.all([get('/me/earnings'), loadImages(), get('/me/brief-wins')]);
  } catch (err) {
    if (first) fill(main, errorBox(err, () => render(true)));
    timer = setTimeout(render, REFRESH_MS);
    return;
  }
  const next = e.next_tier;
  const tier = h('div', { class: 'card stat tier' },
    h('div', { class: 'label', text: 'Royalty rate' }),
    h('div', { class: 'value', id: 'rate', text: percent(e.royalty_rate_bp) }),
    next ? h('div', {},
      h('progress', { max: e.licences_sold + next.licences_to_go, value: e.licences_sold, 'aria-label': `Progress to the ${percent(next.royalty_rate_bp)} tier` }),
      h('div', { class: 'small muted', id: 'next-tier', text: `${plural(next.licences_to_go, 'more licence')} to reach ${percent(next.royalty_rate_bp)}. Tiers never go down.` }))
      : h('div', { class: 'small muted', text: 'You are in the top tier.' }));
  const payoutBox = h('div', {}, loading());
  const refresh = () => render(false);
  const scroll = scrollY;
  fill(main,
    h('h1', { text: 'Dashboard' }),
    h('div', { class: 'stats' },
      stat('Available', money(e.balance_cents), 'balance', 'Ready to pay out'),
      stat('Pending', money(e.pending_cents), 'pending', 'Requested payouts'),
      stat('Lifetime earnings', money(e.lifetime_cents), 'lifetime'),
      stat('Licences sold', e.licences_sold.toLocaleString('en-US'), 'sold'),
      tier),
    h('div', { class: 'two' },
      h('section', { class: 'card chart', 'aria-labelledby': 'chart-h' }, h('h2', { id: 'chart-h', text: 'Earnings by month' }), chart(e.by_month)),
      h('section', { class: 'card', 'aria-labelledby': 'payout-h' }, h('h2', { id: 'payout-h', text: 'Get paid' }), payoutForm(e, refresh), payoutBox)),
    h('h2', { text: 'Recent sales' }), h('p', { class: 'small muted', text: `Updated ${new Date().toLocaleTimeString('en-GB')}; refreshes by itself.` }),
    sales(e),
    h('h2', { text: 'Brief wins' }), briefWins(wins),
    h('h2', { text: 'Your photos' }), perImage(e));
  if (!first) scrollTo(0, scroll);
  fill(payoutBox, await payoutAccount(), h('h3', { text: 'Payout history' }), await payouts());
  timer = setTimeout(() => { if (!document.hidden && !main.contains(document.activeElement)) render(false); else timer = setTimeout(refresh, REFRESH_MS); }, REFRESH_MS);
}

async function start() {
  await boot('dashboard', 'contributor');
  fill(main, h('h1', { text: 'Dashboard' }), loading('Adding up your earnings…'));
  render(true);
}

start();
