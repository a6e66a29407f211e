// The header on every page: the store's name, the search box, the credit
// balance when signed in and the links each role needs.
import { api, setCsrf } from './api.js';
import { h, fill, here, safeNext } from './dom.js';
import { plural } from './fmt.js';

let me = null;
let creditsEl = null;

export function currentUser() { return me; }
export const hasRole = (user, ...roles) => !!user && roles.some((r) => user.roles.includes(r));

export function setCredits(n) {
  if (me) me.credits = n;
  if (creditsEl) creditsEl.textContent = plural(n, 'credit');
  for (const el of document.querySelectorAll('[data-credits]')) el.textContent = plural(n, 'credit');
}

// Who is signed in, or null for a visitor: asked of sessions/current,
// which answers a visitor with 200 rather than a 401 that the browser
// would print in its console.
async function signedIn() {
  const s = await api('GET', '/sessions/current');
  return s && s.user ? s.user : null;
}

export async function refreshMe() {
  try {
    const m = await signedIn();
    if (m) {
      setCsrf(m.csrf_token);
      me = m;
      setCredits(m.credits);
    }
  } catch (e) { /* keep what we have */ }
  return me;
}

function link(href, text, current) {
  const a = h('a', { href, text });
  if (current) a.setAttribute('aria-current', 'page');
  return a;
}

function renderHeader(header, user, page) {
  const q = page === 'search' ? new URLSearchParams(location.search).get('q') || '' : '';
  const search = h('form', { class: 'site-search', role: 'search', action: '/', method: 'get' },
    h('label', { for: 'site-q', class: 'visually-hidden', text: 'Search photos' }),
    h('input', { id: 'site-q', name: 'q', type: 'search', placeholder: 'Search photos', value: q, autocomplete: 'off' }),
    h('button', { type: 'submit', class: 'btn primary', text: 'Search' }));
  const nav = h('nav', { class: 'site-nav', id: 'site-nav', 'aria-label': 'Main' });
  let pill = null;
  if (user) {
    creditsEl = h('span', { class: 'credits-count' });
    pill = h('a', { href: '/credits.html', class: 'credits-pill', title: 'Your credit balance: buy more', 'aria-current': page === 'credits' ? 'page' : null }, creditsEl);
    nav.append(
      link('/briefs.html', 'Briefs', page === 'briefs'),
      link('/downloads.html', 'Downloads', page === 'downloads'),
      link('/lightboxes.html', 'Lightboxes', page === 'lightboxes'));
    if (hasRole(user, 'contributor')) {
      nav.append(link('/upload.html', 'Upload', page === 'upload'), link('/dashboard.html', 'Dashboard', page === 'dashboard'));
    }
    if (hasRole(user, 'reviewer', 'admin')) nav.append(link('/review.html', 'Review', page === 'review'));
    nav.append(link('/account.html', 'Account', page === 'account'));
    if (hasRole(user, 'admin')) nav.append(link('/admin.html', 'Console', page === 'admin'));
    nav.append(h('button', { type: 'button', class: 'btn link signout', text: 'Sign out', title: `Signed in as ${user.email}`, onclick: signOut }));
  } else {
    const next = encodeURIComponent(here());
    nav.append(link('/briefs.html', 'Briefs', page === 'briefs'),
      link(`/signin.html?next=${next}`, 'Sign in', page === 'signin'),
      h('a', { href: `/signup.html?next=${next}`, class: 'btn primary small', text: 'Sign up', 'aria-current': page === 'signup' ? 'page' : null }));
  }
  const toggle = h('button', { type: 'button', class: 'btn menu-toggle', 'aria-expanded': 'false', 'aria-controls': 'site-nav', text: 'Menu' });
  toggle.addEventListener('click', () => {
    const open = header.classList.toggle('open');
    toggle.setAttribute('aria-expanded', String(open));
  });
  fill(header,
    h('a', { href: '#main', class: 'skip', text: 'Skip to content' }),
    h('div', { class: 'bar' },
      h('a', { href: '/', class: 'logo', 'aria-label': 'Stockroom home' },
        h('span', { class: 'logo-mark', 'aria-hidden': 'true' }), h('span', { text: 'Stockroom' })),
      search, pill, toggle, nav));
  if (user) setCredits(user.credits);
  if (user && user.email_verified === false && page !== 'verify') {
    header.append(h('div', { class: 'notice warn verify-banner', role: 'status' },
      `Please confirm your address ${user.email}: open the link we sent you. `,
      h('a', { href: '/account.html', text: 'Send a new link' })));
  }
}

async function signOut() {
  try { await api('DELETE', '/sessions/current'); } catch (e) { /* signed out anyway */ }
  me = null;
  setCsrf(null);
  location.assign('/');
}

function renderFooter() {
  const f = document.querySelector('footer.site');
  if (!f || f.firstChild) return;
  f.append(h('p', {}, 'Stockroom — photos by people, licensed fairly. ',
    h('a', { href: '/', text: 'Search' }), ' · ', h('a', { href: '/credits.html', text: 'Credits' }), ' · ',
    h('a', { href: '/upload.html', text: 'Sell your photos' })));
}

// Start a page: draw the header, learn who is signed in. With need set,
// a visitor is sent to sign in and a user without the role is told so.
export async function boot(page, need) {
  const header = document.querySelector('header.site');
  try {
    me = await signedIn();
    if (me) setCsrf(me.csrf_token);
  } catch (e) {
    me = null;
  }
  renderHeader(header, me, page);
  renderFooter();
  if (need && !me) {
    location.replace(`/signin.html?next=${encodeURIComponent(here())}`);
    return new Promise(() => {});
  }
  if (need && need !== 'user' && !hasRole(me, ...need.split('|'))) {
    const main = document.getElementById('main');
    fill(main, h('div', { class: 'empty' },
      h('h1', { text: 'Not for this account' }),
      h('p', { text: `This page is for ${need.replace('|', ' and ')} accounts. Your account has the roles: ${me.roles.join(', ')}.` }),
      h('p', {}, h('a', { href: '/', class: 'btn', text: 'Back to search' }))));
    return new Promise(() => {});
  }
  return me;
}

export function goNext(fallback = '/') {
  location.assign(safeNext(new URLSearchParams(location.search).get('next'), fallback));
}
