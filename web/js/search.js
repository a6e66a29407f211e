// The search page: query, filters and sort live in the URL; results load
// 24 at a time as the page scrolls.
import { get, query } from './api.js';
import { h, fill, clear, errorBox, loading } from './dom.js';
import { boot } from './shell.js';
import { tile } from './grid.js';
import { plural, date } from './fmt.js';

const PAGE = 24;
const COLOURS = ['red', 'orange', 'yellow', 'green', 'teal', 'blue', 'purple', 'pink', 'brown', 'black', 'white', 'grey'];
const ORIENTATIONS = [['', 'Any'], ['landscape', 'Landscape'], ['portrait', 'Portrait'], ['square', 'Square']];
const MEGAPIXELS = [['', 'Any size'], ['1', '1 MP or more'], ['4', '4 MP or more'], ['12', '12 MP or more'], ['24', '24 MP or more']];
const SORTS = [['', 'Best match'], ['newest', 'Newest'], ['popular', 'Most popular']];
const KEYS = ['q', 'orientation', 'min_megapixels', 'colour', 'sort', 'contributor'];

const main = document.getElementById('main');
let state = {};
let cursor = null;
// Short pages in a row: the store walks a bounded stretch of the catalogue
// per page, so rare filters can give a short page that still has a cursor.
let shortRuns = 0;
let busy = false;
let generation = 0;
let shown = 0;
let firstLoaded = 0;
let firstTarget = 0;
let grid, more, status, heading, filterBar, observer;

function readState() {
  const p = new URLSearchParams(location.search);
  const s = {};
  for (const k of KEYS) s[k] = p.get(k) || '';
  if (s.sort === 'relevance') s.sort = '';
  return s;
}

function setState(change) {
  state = { ...state, ...change };
  const p = new URLSearchParams();
  for (const k of KEYS) if (state[k]) p.set(k, state[k]);
  const url = '/' + (p.toString() ? '?' + p : '');
  history.pushState(null, '', url);
  run();
}

function chipGroup(legend, key, options) {
  return h('fieldset', {}, h('legend', { text: legend }),
    options.map(([v, label]) => h('button', {
      type: 'button', class: 'chip', 'aria-pressed': String(state[key] === v), text: label,
      onclick: () => setState({ [key]: v }),
    })));
}

function menu(id, label, key, options) {
  const sel = h('select', { id, name: key },
    options.map(([v, text]) => h('option', { value: v, text, selected: state[key] === v })));
  sel.addEventListener('change', () => setState({ [key]: sel.value }));
  return h('div', { class: 'row' }, h('label', { for: id, class: 'label', text: label }), sel);
}

function renderFilters() {
  fill(filterBar,
    chipGroup('Orientation', 'orientation', ORIENTATIONS),
    h('fieldset', { class: 'colours' }, h('legend', { text: 'Colour' }),
      COLOURS.map((c) => h('button', {
        type: 'button', class: `swatch sw-${c}`, title: c, 'aria-label': `Mostly ${c}`, 'aria-pressed': String(state.colour === c),
        dataset: { colour: c }, onclick: () => setState({ colour: state.colour === c ? '' : c }),
      }))),
    menu('f-mp', 'Size', 'min_megapixels', MEGAPIXELS),
    menu('f-sort', 'Sort', 'sort', SORTS),
    KEYS.slice(1).some((k) => state[k])
      ? h('button', { type: 'button', class: 'btn link small', text: 'Clear filters',
        onclick: () => setState({ orientation: '', min_megapixels: '', colour: '', sort: '', contributor: '' }) })
      : null);
}

function describe(total, more) {
  const parts = [];
  if (state.orientation) parts.push(state.orientation);
  if (state.colour) parts.push(`mostly ${state.colour}`);
  if (state.min_megapixels) parts.push(`${state.min_megapixels} MP or more`);
  const n = more ? `${total}+ photos` : plural(total, 'photo');
  return parts.length ? `${n} · ${parts.join(', ')}` : n;
}

async function loadProfile(gen) {
  if (!state.contributor) return;
  try {
    const p = await get(`/contributors/${encodeURIComponent(state.contributor)}${query({ limit: 1 })}`);
    if (gen !== generation) return;
    fill(heading, `Photos by ${p.name}`);
    document.title = `${p.name} · Stockroom`;
    status.before(h('p', { class: 'muted profile', text:
      `${plural(p.images, 'photo')} · ${plural(p.licences_sold, 'licence')} sold · member since ${date(p.member_since)}` }));
  } catch (e) { /* the grid says what matters */ }
}

function firstThumbLoaded() {
  firstLoaded++;
  if (firstLoaded === firstTarget && !document.documentElement.dataset.thumbsReady) {
    performance.mark('stockroom:first-thumbnails');
    document.documentElement.dataset.thumbsReady = String(firstLoaded);
    maybeMore();
  }
}

// Load the next page when the end of the grid comes near, but never while
// the first thumbnails are still arriving: they come first.
function maybeMore() {
  if (!cursor || busy || firstLoaded < firstTarget) return;
  if (more.getBoundingClientRect().top < innerHeight + 600) loadMore();
}

async function loadMore() {
  if (busy || (cursor === null && shown > 0)) return;
  busy = true;
  const gen = generation;
  more.setAttribute('aria-busy', 'true');
  fill(more, loading('Loading photos…'));
  try {
    const params = { ...state, limit: PAGE, cursor: cursor || undefined };
    if (!params.sort && params.q) params.sort = 'relevance';
    const page = await get('/images' + query(params));
    if (gen !== generation) return;
    const first = shown === 0;
    if (first) {
      firstTarget = Math.min(page.items.length, PAGE);
      firstLoaded = 0;
    }
    for (const item of page.items) {
      grid.append(tile(item, first ? { eager: true, onload: () => { if (gen === generation) firstThumbLoaded(); } } : {}));
    }
    shown += page.items.length;
    cursor = page.next_cursor;
    shortRuns = cursor && page.items.length < PAGE ? shortRuns + 1 : 0;
    if (first && page.items.length === 0 && !cursor) {
      fill(status, h('div', { class: 'empty' },
        h('h2', { text: 'No photos match' }),
        h('p', { text: state.q ? `Nothing matched “${state.q}” with these filters. Try fewer words or clear the filters.` : 'Nothing here yet. Try another filter.' }),
        h('button', { type: 'button', class: 'btn', text: 'Clear search and filters',
          onclick: () => { document.getElementById('site-q').value = ''; setState({ q: '', orientation: '', min_megapixels: '', colour: '', sort: '', contributor: '' }); } }),
        h('p', {}, h('a', { href: `/briefs.html?new=1&q=${encodeURIComponent(state.q || '')}`, id: 'post-brief', text: 'Can’t find it? Post a brief' }),
          ' and let contributors shoot it for you.')));
    } else {
      fill(status, h('p', { class: 'muted', role: 'status', text: describe(shown, !!cursor) }));
    }
    clear(more);
    if (cursor) more.append(h('button', { type: 'button', class: 'btn', text: 'Show more photos', onclick: loadMore }));
    busy = false;
    more.removeAttribute('aria-busy');
    // A short page with more to come: look further at once, a few times.
    if (shortRuns > 0 && shortRuns < 10) { loadMore(); return; }
    // A tall window may still show the sentinel: keep filling it.
    if (cursor) requestAnimationFrame(maybeMore);
  } catch (e) {
    if (gen !== generation) return;
    busy = false;
    more.removeAttribute('aria-busy');
    fill(more, errorBox(e, loadMore));
  }
}

function run() {
  generation++;
  cursor = null;
  shortRuns = 0;
  shown = 0;
  busy = false;
  firstLoaded = 0;
  firstTarget = Infinity;
  clear(grid);
  clear(status);
  for (const p of main.querySelectorAll('.profile')) p.remove();
  const q = document.getElementById('site-q');
  if (q && document.activeElement !== q) q.value = state.q;
  fill(heading, state.q ? `Photos of “${state.q}”` : state.contributor ? 'Photos by this contributor' : 'Discover photos');
  document.title = (state.q ? `${state.q} · ` : '') + 'Stockroom';
  renderFilters();
  loadProfile(generation);
  loadMore();
}

async function start() {
  state = readState();
  heading = h('h1', { id: 'results-title' });
  status = h('div', { class: 'status' });
  filterBar = h('div', { class: 'filters', role: 'group', 'aria-label': 'Filters' });
  grid = h('div', { class: 'grid', id: 'results', 'aria-labelledby': 'results-title' });
  more = h('div', { class: 'more' });
  fill(main, h('div', { class: 'search-head' }, heading), status, filterBar, grid, more);
  // The search runs at once; the header (and who is signed in) arrives in parallel.
  run();
  await boot('search');
  const form = document.querySelector('.site-search');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setState({ q: document.getElementById('site-q').value.trim() });
  });
  document.getElementById('site-q').value = state.q;
  observer = new IntersectionObserver((entries) => {
    if (entries.some((en) => en.isIntersecting)) maybeMore();
  }, { rootMargin: '600px 0px' });
  observer.observe(more);
  addEventListener('popstate', () => { state = readState(); run(); });
}

start();
