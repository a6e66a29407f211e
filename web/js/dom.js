// Building the page: elements are made with createElement and text is
// always set with textContent, so data from the server can never become
// markup.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'text') el.textContent = v;
    else if (v != null) el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'vars') for (const [n, x] of Object.entries(v)) el.style.setProperty(n, String(x));
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else if (k in el && typeof el[k] !== 'object' && !k.includes('-') && k !== 'list' && k !== 'form') el[k] = v;
    else el.setAttribute(k, String(v));
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function fill(el, ...children) {
  clear(el);
  return append(el, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

export function params() {
  return new URLSearchParams(location.search);
}

// A loading placeholder that screen readers announce.
export function loading(text = 'Loading…') {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

// The friendly error state, with a retry button when a retry makes sense.
export function errorBox(err, retry) {
  const msg = err && err.message ? err.message : 'Something went wrong.';
  return h('div', { class: 'notice error', role: 'alert' },
    h('strong', { text: err && err.status === 0 ? 'No connection. ' : 'Sorry. ' }), msg,
    retry ? h('button', { type: 'button', class: 'btn small', onclick: retry, text: 'Try again' }) : null);
}

export function notice(kind, ...children) {
  return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}

// Where to go after signing in: a path of this site only. Browsers drop
// tabs and newlines from URLs and read a backslash as "/", so "/<TAB>/evil"
// and "/<backslash>evil" would leave the site; their percent-encoded forms
// are refused too. Anything else that resolves to another origin falls
// back as well.
const UNSAFE = /[\\\x00-\x1f\x7f]/;
export function safeNext(value, fallback = '/') {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || UNSAFE.test(value)) return fallback;
  let decoded, url;
  try {
    decoded = decodeURIComponent(value);
    url = new URL(value, location.origin);
  } catch (e) { return fallback; }
  if (decoded.startsWith('//') || UNSAFE.test(decoded) || url.origin !== location.origin) return fallback;
  const path = url.pathname + url.search + url.hash;
  return path.startsWith('//') ? fallback : path;
}

export function here() {
  return location.pathname + location.search;
}

export function imageUrl(id) {
  return `/image.html?id=${encodeURIComponent(id)}`;
}
