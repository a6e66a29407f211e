// A printable receipt of a credit-pack purchase.
import { get } from './api.js';
import { h, fill, errorBox, params } from './dom.js';
import { boot } from './shell.js';
import { money, plural, date } from './fmt.js';

const main = document.getElementById('main');
const id = params().get('purchase') || '';

async function start() {
  await boot('credits');
  if (!id) { fill(main, h('div', { class: 'empty' }, h('h1', { text: 'No purchase chosen' }))); return; }
  try {
    const r = await get(`/me/purchases/${encodeURIComponent(id)}/receipt`);
    const print = h('button', { type: 'button', class: 'btn', id: 'print', text: 'Print' });
    print.addEventListener('click', () => window.print());
    fill(main, h('article', { class: 'card receipt', id: 'receipt' },
      h('h1', { text: `Receipt ${r.receipt_number}` }),
      h('p', {}, h('strong', { text: r.seller.name }), r.seller.address ? h('br') : null, r.seller.address || '',
        r.seller.tax_id ? h('br') : null, r.seller.tax_id ? `Tax id: ${r.seller.tax_id}` : ''),
      h('table', {}, h('tbody', {},
        h('tr', {}, h('th', { scope: 'row', text: 'Date' }), h('td', { text: date(r.date) })),
        h('tr', {}, h('th', { scope: 'row', text: 'Item' }), h('td', { text: `Credit pack: ${plural(r.pack.credits, 'credit')}` })),
        h('tr', {}, h('th', { scope: 'row', text: 'Amount' }), h('td', { text: `${money(r.amount_cents)} (${r.currency.toUpperCase()})` })),
        r.card_last4 ? h('tr', {}, h('th', { scope: 'row', text: 'Paid by' }), h('td', { text: `Card ending ${r.card_last4}` })) : null,
        r.status === 'refunded' ? h('tr', {}, h('th', { scope: 'row', text: 'Status' }), h('td', { text: 'Refunded' })) : null)),
      h('p', { class: 'muted small', text: `Purchase ${r.purchase_id}` }), print));
  } catch (e) {
    fill(main, errorBox(e, start));
  }
}

start();
