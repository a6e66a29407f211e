// The admin console: reports, photos in any state, appeals, users, payouts
// waiting, the books and the audit log. Keyboard: 1–7 switch sections,
// J/K move through a list, / focuses its search box; each row's actions are
// ordinary buttons, so Tab and Enter reach everything.
import { api, get, query } from './api.js';
import { h, fill, errorBox, notice, loading, imageUrl } from './dom.js';
import { boot } from './shell.js';
import { date } from './fmt.js';

const main = document.getElementById('main');
const SECTIONS = [
  ['reports', 'Reports'], ['photos', 'Photos'], ['appeals', 'Appeals'], ['users', 'Users'],
  ['payouts', 'Payouts waiting'], ['books', 'Books'], ['audit', 'Audit log'],
];
let current = 'reports';
let panel, tabs, flash;

function say(kind, text) {
  fill(flash, notice(kind, text));
}

// Run an action, then redraw the section; a refusal is shown, not thrown.
async function act(what, method, path, body) {
  try {
    await api(method, path, body);
    say('good', what);
    await show(current);
  } catch (e) {
    say('error', e.message);
  }
}

// A button that asks for a reason in place (no dialog), then acts.
function withReason(label, cls, question, run) {
  const wrap = h('span', { class: 'with-reason' });
  const open = () => {
    const input = h('input', { type: 'text', class: 'reason-input', maxlength: 1000, 'aria-label': question, placeholder: question });
    const form = h('form', { class: 'row inline-reason' }, input, h('button', { type: 'submit', class: `btn small ${cls}`, text: `Confirm: ${label.toLowerCase()}` }),
      h('button', { type: 'button', class: 'btn small', text: 'Cancel', onclick: () => fill(wrap, button) }));
    form.addEventListener('submit', (e) => { e.preventDefault(); if (input.value.trim()) run(input.value.trim()); });
    fill(wrap, form);
    input.focus();
  };
  const button = h('button', { type: 'button', class: `btn small ${cls}`, text: label, onclick: open });
  return fill(wrap, button);
}

function table(head, rows) {
  if (!rows.length) return h('p', { class: 'muted empty-list', text: 'Nothing here.' });
  return h('table', {}, h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows));
}

function photoLink(id, title) {
  return h('a', { href: imageUrl(id), text: title || id });
}

function takedownButton(id) {
  return withReason('Take down', 'danger takedown', 'Why? The contributor is told.',
    (reason) => act('Taken down.', 'POST', `/images/${encodeURIComponent(id)}/takedown`, { reason }));
}

function restoreButton(id) {
  return h('button', { type: 'button', class: 'btn small restore', text: 'Restore', onclick: () => act('Restored.', 'POST', `/images/${encodeURIComponent(id)}/restore`) });
}

const views = {
  async reports() {
    const r = await get('/admin/reports');
    return table(['Photo', 'Reason', 'Details', 'Contact', 'Filed', ''], r.items.map((x) => h('tr', { dataset: { id: x.id } },
      h('td', {}, photoLink(x.image_id, x.image_title)), h('td', { text: x.reason }), h('td', { text: x.details }),
      h('td', { text: x.contact_email || '—' }), h('td', { text: date(x.created_at) }),
      h('td', {}, takedownButton(x.image_id), ' ',
        h('button', { type: 'button', class: 'btn small dismiss', text: 'Dismiss', onclick: () => act('Report dismissed.', 'POST', `/admin/reports/${encodeURIComponent(x.id)}/dismiss`, {}) })))));
  },
  async photos(state = 'approved') {
    const select = h('select', { id: 'photo-state', 'aria-label': 'State' },
      ['approved', 'pending_review', 'draft', 'rejected', 'withdrawn', 'taken_down', 'processing', 'failed']
        .map((s) => h('option', { value: s, text: s.replace('_', ' '), selected: s === state })));
    const box = h('div', {});
    const draw = async () => {
      const r = await get('/admin/images' + query({ status: select.value, limit: 100 }));
      fill(box, table(['Photo', 'Contributor', 'State', ''], r.items.map((x) => h('tr', { dataset: { id: x.id } },
        h('td', {}, photoLink(x.id, x.title)), h('td', { text: x.contributor.name }),
        h('td', { text: x.status + (x.off_sale_reason ? ` — ${x.off_sale_reason}` : '') + (x.counter_notice ? ` · counter-notice: ${x.counter_notice}` : '') }),
        h('td', {}, ['withdrawn', 'taken_down'].includes(x.status) ? restoreButton(x.id) : takedownButton(x.id))))));
    };
    select.addEventListener('change', () => draw().catch((e) => fill(box, errorBox(e))));
    await draw();
    return h('div', {}, h('label', { for: 'photo-state', text: 'Photos in state ' }), select, box);
  },
  async appeals() {
    const r = await get('/review/queue?limit=100');
    const items = r.items.filter((x) => x.appeal);
    return table(['Photo', 'Appeal', 'Rejected by', ''], items.map((x) => h('tr', { dataset: { id: x.id } },
      h('td', {}, photoLink(x.id, x.title)), h('td', { text: x.appeal.message }), h('td', { text: x.appeal.rejected_by }),
      h('td', {}, h('a', { class: 'btn small', href: '/review.html', text: 'Decide at the review desk' })))));
  },
  async users() {
    const input = h('input', { type: 'search', id: 'user-search', placeholder: 'Email or name', autocomplete: 'off' });
    const box = h('div', {});
    const draw = async () => {
      const r = await get('/admin/users' + query({ q: input.value.trim() }));
      fill(box, table(['Name', 'Email', 'Roles', 'Since', ''], r.items.map((u) => h('tr', { dataset: { id: u.id } },
        h('td', { text: u.name }), h('td', { text: u.email }), h('td', { text: u.roles.join(', ') }), h('td', { text: date(u.created_at) }),
        h('td', {}, u.suspended
          ? h('button', { type: 'button', class: 'btn small unsuspend', text: 'Lift suspension', onclick: () => act('Suspension lifted.', 'DELETE', `/admin/users/${encodeURIComponent(u.id)}/suspension`) })
          : withReason('Suspend', 'danger suspend', `Why is ${u.email} suspended?`,
            (reason) => act('Suspended.', 'POST', `/admin/users/${encodeURIComponent(u.id)}/suspension`, { reason })))))));
    };
    const form = h('form', { role: 'search', class: 'row' }, h('label', { for: 'user-search', class: 'visually-hidden', text: 'Search users' }), input,
      h('button', { type: 'submit', class: 'btn small', text: 'Search' }));
    form.addEventListener('submit', (e) => { e.preventDefault(); draw().catch((err) => fill(box, errorBox(err))); });
    await draw();
    return h('div', {}, form, box);
  },
  async payouts() {
    const r = await get('/payouts?status=requested');
    return table(['Payout', 'Contributor', 'Amount', 'Requested', ''], r.items.map((p) => h('tr', { dataset: { id: p.id } },
      h('td', { text: p.id }), h('td', { text: p.contributor_id }), h('td', { text: (p.amount_cents / 100).toFixed(2) }),
      h('td', { text: date(p.requested_at) }),
      h('td', {}, h('button', { type: 'button', class: 'btn small', text: 'Paid', onclick: () => act('Marked paid.', 'PATCH', `/payouts/${encodeURIComponent(p.id)}`, { status: 'paid' }) }), ' ',
        h('button', { type: 'button', class: 'btn small danger', text: 'Failed', onclick: () => act('Marked failed.', 'PATCH', `/payouts/${encodeURIComponent(p.id)}`, { status: 'failed' }) })))));
  },
  async books() {
    const r = await get('/admin/ledger/verify');
    return h('div', { id: 'books' }, notice(r.ok ? 'good' : 'error', r.ok ? 'The books balance.' : 'The books do not balance.'),
      r.report ? h('pre', { text: r.report }) : null);
  },
  async audit() {
    const action = h('input', { type: 'search', id: 'audit-action', placeholder: 'action, e.g. takedown' });
    const object = h('input', { type: 'search', id: 'audit-object', placeholder: 'object id' });
    const box = h('div', {});
    const draw = async () => {
      const r = await get('/admin/audit' + query({ action: action.value.trim(), object: object.value.trim(), limit: 100 }));
      fill(box, table(['When', 'Who', 'Action', 'Object', 'Why'], r.items.map((e) => h('tr', {},
        h('td', { text: date(e.at) }), h('td', { text: e.actor_id }), h('td', { text: e.action }),
        h('td', { text: `${e.object.type} ${e.object.id}` }), h('td', { text: e.reason || '—' })))));
    };
    const form = h('form', { role: 'search', class: 'row' }, action, object, h('button', { type: 'submit', class: 'btn small', text: 'Filter' }));
    form.addEventListener('submit', (e) => { e.preventDefault(); draw().catch((err) => fill(box, errorBox(err))); });
    await draw();
    return h('div', {}, form, box);
  },
};

async function show(name) {
  current = name;
  for (const b of tabs.querySelectorAll('button')) b.setAttribute('aria-selected', String(b.dataset.section === name));
  fill(panel, loading());
  panel.dataset.section = name;
  try {
    fill(panel, await views[name]());
  } catch (e) {
    fill(panel, errorBox(e, () => show(name)));
  }
}

// J and K move a highlight through the rows; Enter follows its first link.
function move(step) {
  const rows = [...panel.querySelectorAll('tbody tr')];
  if (!rows.length) return;
  let i = rows.findIndex((r) => r.classList.contains('current'));
  if (i >= 0) rows[i].classList.remove('current');
  i = Math.min(Math.max(i + step, 0), rows.length - 1);
  rows[i].classList.add('current');
  const first = rows[i].querySelector('a, button');
  if (first) first.focus();
}

function keys(e) {
  if (e.target.closest('input, textarea, select') || e.metaKey || e.ctrlKey || e.altKey) return;
  const n = Number(e.key);
  if (n >= 1 && n <= SECTIONS.length) { e.preventDefault(); show(SECTIONS[n - 1][0]); return; }
  if (e.key === 'j') { e.preventDefault(); move(1); }
  if (e.key === 'k') { e.preventDefault(); move(-1); }
  if (e.key === '/') {
    const box = panel.querySelector('input[type="search"]');
    if (box) { e.preventDefault(); box.focus(); }
  }
}

async function start() {
  await boot('admin', 'admin');
  flash = h('div', { id: 'console-flash', 'aria-live': 'polite' });
  tabs = h('div', { class: 'console-tabs', role: 'tablist', 'aria-label': 'Console sections' },
    SECTIONS.map(([name, label], i) => h('button', {
      type: 'button', class: 'btn small', role: 'tab', dataset: { section: name }, id: `tab-${name}`,
      onclick: () => show(name), title: `Key ${i + 1}`,
    }, label)));
  panel = h('section', { class: 'console', id: 'console-panel', role: 'tabpanel' });
  fill(main, h('h1', { text: 'Admin console' }),
    h('p', { class: 'muted small', text: 'Keys: 1–7 sections · J/K rows · / search · Tab and Enter for actions.' }),
    tabs, flash, panel);
  document.addEventListener('keydown', keys);
  await show('reports');
}

start();
