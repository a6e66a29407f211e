// Credit packs, buying one (at once with the test provider, through
// Stripe's checkout page with stripe), the buyer's purchases with receipts
// and refunds of unused packs within 14 days.
import { api, get, newKey } from './api.js';
import { h, fill, errorBox, notice, loading, params, safeNext } from './dom.js';
import { boot, setCredits } from './shell.js';
import { money, plural, date } from './fmt.js';

const main = document.getElementById('main');
let me = null;
const out = h('div', { id: 'purchase-result', 'aria-live': 'polite' });
const purchasesEl = h('div', { id: 'purchases' });

// After buying on the way to a licence, the way back to it.
function continueLink(balance) {
  const next = params().get('next');
  return next && balance > 0 ? h('a', { href: safeNext(next), class: 'btn primary', id: 'continue', text: 'Continue where you were' }) : null;
}

function perCredit(p) {
  // Rounded to the cent with integers only.
  return money(Math.floor((2 * p.price_cents + p.credits) / (2 * p.credits)));
}

function packCard(p, best) {
  const btn = h('button', { type: 'button', class: 'btn primary', text: `Buy ${p.credits} credits`, dataset: { pack: p.id } });
  btn.addEventListener('click', async () => {
    if (!me) { location.assign(`/signin.html?next=${encodeURIComponent(location.pathname + location.search)}`); return; }
    btn.disabled = true;
    fill(out, h('p', { class: 'muted', role: 'status', text: 'Taking payment…' }));
    try {
      const r = await api('POST', '/credits/purchases', { pack: p.id }, { idem: newKey() });
      if (r.checkout_url) {
        // Stripe brings the buyer back here; keep where they were going.
        const next = params().get('next');
        if (next) sessionStorage.setItem('checkout-next', next);
        fill(out, h('p', { class: 'muted', role: 'status', text: 'Taking you to the payment page…' }));
        location.assign(r.checkout_url);
        return;
      }
      setCredits(r.balance);
      fill(out, notice('good', h('strong', { text: `${plural(r.credits, 'credit')} added. ` }),
        `Your balance is now ${plural(r.balance, 'credit')}. `, continueLink(r.balance)));
      loadPurchases();
    } catch (e) {
      fill(out, errorBox(e));
    } finally {
      btn.disabled = false;
    }
  });
  return h('div', { class: ['card pack', best && 'best'] },
    best ? h('span', { class: 'badge good', text: 'Best value' }) : null,
    h('div', { class: 'amount', text: String(p.credits) }), h('div', { class: 'muted', text: 'credits' }),
    h('div', { class: 'price', text: money(p.price_cents) }),
    h('div', { class: 'per', text: `${perCredit(p)} per credit` }), btn);
}

async function refund(p, btn) {
  if (!confirm(`Refund the ${p.credits}-credit pack for ${money(p.price_cents)}?`)) return;
  btn.disabled = true;
  try {
    const r = await api('POST', `/credits/purchases/${encodeURIComponent(p.purchase_id)}/refund`);
    setCredits(r.balance);
    fill(out, notice('good', `Refunded ${money(p.price_cents)}. Your balance is now ${plural(r.balance, 'credit')}. `, continueLink(r.balance)));
    loadPurchases();
  } catch (e) {
    btn.disabled = false;
    fill(out, errorBox(e));
  }
}

async function loadPurchases() {
  if (!me || !me.roles.includes('buyer')) return;
  try {
    const list = await get('/me/purchases');
    if (!list.items.length) { fill(purchasesEl, h('p', { class: 'muted', text: 'No purchases yet.' })); return; }
    fill(purchasesEl, h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Date', 'Pack', 'Price', 'Used', 'Status', ''].map((t, i) => h('th', { scope: 'col', class: i >= 2 && i <= 3 ? 'num' : null, text: t })))),
      h('tbody', {}, list.items.map((p) => {
        const receipt = p.status === 'settled' || p.status === 'refunded'
          ? h('a', { href: `/receipt.html?purchase=${encodeURIComponent(p.purchase_id)}`, class: 'small', text: 'Receipt' }) : null;
        const action = p.refundable
          ? h('button', { type: 'button', class: 'btn small danger', text: 'Refund', 'aria-label': `Refund the ${p.credits}-credit pack of ${date(p.created_at)}` })
          : h('span', { class: 'muted small', text: p.status === 'refunded' ? '' : p.credits_used ? 'in use' : 'refund window closed' });
        if (p.refundable) action.addEventListener('click', () => refund(p, action));
        return h('tr', {}, h('td', { class: 'nowrap', text: date(p.created_at) }), h('td', { text: plural(p.credits, 'credit') }),
          h('td', { class: 'num', text: money(p.price_cents) }), h('td', { class: 'num', text: String(p.credits_used) }),
          h('td', {}, h('span', { class: `badge ${p.status === 'settled' ? 'good' : p.status === 'refunded' ? 'bad' : 'warn'}`, text: p.status })),
          h('td', {}, action, ' ', receipt));
      })))));
  } catch (e) {
    fill(purchasesEl, errorBox(e, loadPurchases));
  }
}

// Back from Stripe's checkout: wait for its webhook to settle the purchase.
const POLL_MS = 1000;
const PATIENCE_MS = 30000;
async function backFromCheckout() {
  const q = params();
  const id = q.get('purchase');
  if (!me || !id || !q.get('checkout')) return;
  if (q.get('checkout') === 'cancel') {
    fill(out, notice('warn', 'Checkout cancelled: nothing was charged. You can buy a pack again at any time.'));
    return;
  }
  const started = Date.now();
  fill(out, h('p', { class: 'muted', role: 'status', id: 'checkout-wait', text: 'Payment received by Stripe; waiting for it to be confirmed…' }));
  for (;;) {
    let p = null;
    try {
      p = (await get('/me/purchases')).items.find((x) => x.purchase_id === id);
    } catch (e) { /* a blip: ask again */ }
    if (p && p.status === 'settled') {
      const r = await get('/me');
      setCredits(r.credits);
      const next = sessionStorage.getItem('checkout-next');
      sessionStorage.removeItem('checkout-next');
      const back = next && r.credits > 0 ? h('a', { href: safeNext(next), class: 'btn primary', id: 'continue', text: 'Continue where you were' }) : null;
      fill(out, notice('good', h('strong', { text: `${plural(p.credits, 'credit')} added. ` }), `Your balance is now ${plural(r.credits, 'credit')}. `, back));
      loadPurchases();
      return;
    }
    if (p && p.status !== 'pending') {
      fill(out, notice('bad', `This payment did not complete (${p.status.replace('_', ' ')}). Nothing was added; if you were charged, contact us.`));
      loadPurchases();
      return;
    }
    if (Date.now() - started > PATIENCE_MS)
      fill(out, notice('warn', h('span', { id: 'checkout-slow', text: 'Stripe has not confirmed the payment yet. Your credits will appear here as soon as it does; you can leave this page and come back.' })));
    await new Promise((ok) => setTimeout(ok, Date.now() - started > PATIENCE_MS ? 5 * POLL_MS : POLL_MS));
  }
}

async function start() {
  me = await boot('credits');
  const packs = h('div', { class: 'packs' }, loading('Loading packs…'));
  fill(main, h('h1', { text: 'Credits' }),
    h('p', { class: 'muted', text: 'Buy credits once, spend them on any photo. Credits never expire, nothing renews by itself, and an unused pack can be refunded within 14 days.' }),
    me ? h('p', {}, 'Your balance: ', h('strong', { id: 'balance', dataset: { credits: '' }, text: plural(me.credits, 'credit') })) : notice('warn', h('a', { href: `/signin.html?next=${encodeURIComponent('/credits.html')}`, text: 'Sign in' }), ' to buy credits.'),
    packs, out, me ? h('h2', { text: 'Your purchases' }) : null, purchasesEl);
  try {
    const list = await get('/credits/packs');
    const bestRate = Math.min(...list.items.map((p) => Math.floor(p.price_cents * 1000 / p.credits)));
    fill(packs, list.items.map((p) => packCard(p, list.items.length > 1 && Math.floor(p.price_cents * 1000 / p.credits) === bestRate)));
  } catch (e) {
    fill(packs, errorBox(e, start));
  }
  loadPurchases();
  backFromCheckout();
}

start();
