import { h, fill } from './dom.js';
import { boot } from './shell.js';

const main = document.getElementById('main');
boot('404').then(() => {
  const q = location.pathname.split('/').filter(Boolean).pop() || '';
  fill(main, h('div', { class: 'empty' },
    h('h1', { text: 'Page not found' }),
    h('p', { text: 'There is nothing at this address. It may have moved, or the link has a typo.' }),
    h('p', {}, h('a', { href: '/', class: 'btn primary', text: 'Search photos' }), ' ',
      q ? h('a', { href: `/?q=${encodeURIComponent(q.replace(/\.[a-z]+$/i, '').replace(/[-_]+/g, ' '))}`, class: 'btn', text: 'Search for this' }) : null)));
});
