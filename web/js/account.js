// The account page: address and its verification, password, notices,
// sessions, export and closing the account.
import { api } from './api.js';
import { h, fill, notice, errorBox, params, loading } from './dom.js';
import { boot, refreshMe } from './shell.js';
import { field, clearErrors, showError } from './forms.js';
import { dateTime } from './fmt.js';

const main = document.getElementById('main');

function section(title, ...children) {
  return h('section', { class: 'card account-section' }, h('h2', { text: title }), ...children);
}

// A form whose submit runs fn(form) and says how it went.
function form(id, fields, label, fn, codes = {}) {
  const button = h('button', { type: 'submit', class: 'btn primary', text: label });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const f = h('form', { id, novalidate: true }, h('div', { class: 'form-error', 'aria-live': 'assertive' }),
    ...fields, button, status);
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(f);
    fill(status);
    button.disabled = true;
    try {
      const msg = await fn(f);
      if (msg) fill(status, notice('good', msg));
      f.reset();
    } catch (err) {
      showError(f, err, codes);
    }
    button.disabled = false;
  });
  return f;
}

function addressSection(me) {
  const state = me.email_verified
    ? h('p', { text: `Your address ${me.email} is confirmed.` })
    : h('div', {}, notice('warn', `Your address ${me.email} is not confirmed yet: uploads and payouts wait for it.`),
      h('button', { type: 'button', class: 'btn', id: 'resend-verification', text: 'Send a new link',
        onclick: async (e) => {
          e.target.disabled = true;
          try {
            const r = await api('POST', '/me/email-verifications');
            e.target.replaceWith(notice('good', r.message));
          } catch (err) {
            e.target.replaceWith(errorBox(err));
          }
        } }));
  const change = form('email-form', [
    field('email', 'New address', { type: 'email', autocomplete: 'email', required: true }),
    field('email_password', 'Current password', { type: 'password', autocomplete: 'current-password', required: true }),
  ], 'Change address', async (f) => {
    const r = await api('PATCH', '/me', { email: f.email.value.trim(), current_password: f.email_password.value });
    return `We sent a link to ${r.pending_email}. Your address changes when you open it.`;
  }, { email_taken: 'email', invalid_email: 'email', wrong_password: 'email_password' });
  return section('Email address', state, change);
}

function passwordSection() {
  return section('Password', form('password-form', [
    field('current_password', 'Current password', { type: 'password', autocomplete: 'current-password', required: true }),
    field('new_password', 'New password', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10 },
      'At least 10 characters. Every other session is signed out.'),
  ], 'Change password', async (f) => {
    await api('POST', '/me/password', { current_password: f.current_password.value, new_password: f.new_password.value });
    return 'Password changed. Your other sessions are signed out.';
  }, { wrong_password: 'current_password', weak_password: 'new_password' }));
}

function noticesSection(me) {
  const box = (id, label, checked) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', id, name: id, checked: checked || null }), ' ', label);
  const f = form('notify-form', [
    box('notify_reviews', 'Tell me when a photo of mine is approved or rejected', me.notify_reviews),
    box('notify_sales_digest', 'Send me a daily digest of my sales', me.notify_sales_digest),
  ], 'Save', async (fm) => {
    await api('PATCH', '/me', { notify_reviews: fm.notify_reviews.checked, notify_sales_digest: fm.notify_sales_digest.checked });
    return 'Saved.';
  });
  f.addEventListener('reset', (e) => e.preventDefault());
  return section('Notices by email', h('p', { text: 'Receipts and mail about your password and payouts always come.' }), f);
}

async function sessionsSection() {
  const body = h('div', {}, loading());
  const s = section('Where you are signed in', body);
  const draw = async () => {
    try {
      const list = await api('GET', '/me/sessions');
      const rows = list.items.map((it) => h('tr', {},
        h('td', { text: it.browser || 'Unknown browser' }), h('td', { text: it.client || '—' }),
        h('td', { text: dateTime(it.created_at) }), h('td', { text: dateTime(it.last_seen_at) }),
        h('td', {}, it.current ? h('strong', { text: 'This session' })
          : h('button', { type: 'button', class: 'btn small', text: 'Sign out',
            onclick: async () => { await api('DELETE', `/me/sessions/${encodeURIComponent(it.id)}`); draw(); } }))));
      fill(body, h('div', { class: 'table-wrap' }, h('table', { class: 'table sessions' },
        h('thead', {}, h('tr', {}, ...['Browser', 'Address', 'Signed in', 'Last seen', ''].map((t) => h('th', { text: t })))),
        h('tbody', {}, ...rows))),
      h('button', { type: 'button', class: 'btn', id: 'signout-others', text: 'Sign out everywhere else',
        onclick: async () => { await api('DELETE', '/me/sessions'); draw(); } }));
    } catch (err) {
      fill(body, errorBox(err, draw));
    }
  };
  draw();
  return s;
}

function exportSection() {
  const button = h('button', { type: 'button', class: 'btn', id: 'export', text: 'Download my data (JSON)' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const doc = await api('GET', '/me/export');
      const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
      const a = h('a', { href: url, download: 'stockroom-export.json' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      button.after(errorBox(err));
    }
    button.disabled = false;
  });
  return section('Your data', h('p', { text: 'Everything Stockroom holds about you, as one file.' }), button);
}

function closeSection() {
  const f = form('close-form', [
    field('close_password', 'Current password', { type: 'password', autocomplete: 'current-password', required: true }),
  ], 'Close my account', async (fm) => {
    if (!window.confirm('Close your account for good? Your photos leave the store; licences you bought stay valid.')) return null;
    await api('DELETE', '/me', { current_password: fm.close_password.value });
    location.assign('/?closed=1');
    return null;
  }, { wrong_password: 'close_password' });
  f.querySelector('button[type=submit]').className = 'btn danger';
  return section('Close the account',
    h('p', { text: 'Your name and address are erased and your photos taken off sale. Sales records stay, under an anonymous id, as bookkeeping law requires. Money waiting to be paid out must be paid first.' }), f);
}

async function start() {
  const me = await boot('account', 'user');
  if (!me) return;
  await refreshMe();
  const head = h('div', {}, h('h1', { text: 'Your account' }),
    params().get('reset') ? notice('good', 'Your new password is set and you are signed in.') : null);
  fill(main, head, addressSection(me), passwordSection(), noticesSection(me), await sessionsSection(),
    exportSection(), closeSection());
}

start();
