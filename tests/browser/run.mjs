// Shared helper of the browser tests: a real server on a free port with a
// fresh data folder, an admin, Debian's Chromium through playwright-core,
// and small API helpers for setting the scene. Stop everything with stop().
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, mkdir } from 'node:fs/promises';
import { existsSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
export const corpus = path.resolve(root, process.env.STOCKROOM_CORPUS || '../shared/corpus');
export const shots = path.join(here, 'screenshots');
export const ADMIN = { email: 'admin@example.com', password: 'longpassword1' };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll fn until it returns something truthy, or fail after the deadline.
export async function until(fn, what = 'condition', ms = 20000) {
  const end = Date.now() + ms;
  let last;
  for (let wait = 20; ; wait = Math.min(wait * 2, 250)) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(wait);
  }
}

// args, extra: more flags for `stockroom serve` (photos go to review
// undescribed unless a test asks for the draft rules with '--min-keywords',
// '5'); env: more environment for it.
export async function start({ args = [], extra = [], env: moreEnv = {} } = {}) {
  const bin = path.resolve(root, process.env.STOCKROOM_BIN || 'build/stockroom');
  const data = await mkdtemp(path.join(tmpdir(), 'stockroom-browser-'));
  const portFile = path.join(data, 'port');
  const add = spawnSync(bin, ['user', 'add', '--data', data, '--email', ADMIN.email, '--role', 'admin', '--name', 'Ada Admin'],
    { input: ADMIN.password + '\n', encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`stockroom user add failed: ${add.stderr}`);
  const log = openSync(path.join(data, 'server.log'), 'a');
  const proc = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data', data, '--port-file', portFile,
    '--web', path.join(root, 'web'), '--min-megapixels', '0.01', '--log-level', 'warn', '--min-keywords', '0', ...args, ...extra],
  { cwd: root, stdio: ['ignore', log, log], env: { ...process.env, ...moreEnv } });
  closeSync(log);
  let exited = null;
  proc.on('exit', (code, sig) => { exited = { code, sig }; });
  const port = await until(async () => {
    if (exited) throw new Error(`server exited: ${JSON.stringify(exited)}`);
    if (!existsSync(portFile)) return null;
    return Number((await readFile(portFile, 'utf8')).trim()) || null;
  }, 'the port file', 15000);
  const base = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(base + '/healthz')).ok, '/healthz', 15000);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  await mkdir(shots, { recursive: true });
  const env = {
    base, data, browser, port,
    async stop() {
      await browser.close().catch(() => {});
      if (exited) {
        const text = await readFile(path.join(data, 'server.log'), 'utf8').catch(() => '');
        console.log(`the server stopped by itself (${JSON.stringify(exited)}); its log ends:\n${text.split('\n').slice(-30).join('\n')}`);
      } else {
        proc.kill('SIGTERM');
        await until(() => exited, 'the server to stop', 15000).catch(() => proc.kill('SIGKILL'));
      }
      if (process.env.STOCKROOM_KEEP_DATA) console.log(`data and server log kept in ${data}`);
      else await rm(data, { recursive: true, force: true });
    },
  };
  return env;
}

// A new browser context (its own cookies) and page, failing the test on any
// page error or dialog, so an XSS attempt or a broken script is noticed.
export async function newPage(env, { width = 1280, height = 900, storageState } = {}) {
  const context = await env.browser.newContext({ viewport: { width, height }, baseURL: env.base, acceptDownloads: true, storageState });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    if (d.type() === 'confirm') { d.accept(); return; }
    page.problems.push(`dialog: ${d.type()} ${d.message()}`);
    d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) page.problems.push(`csp: ${m.text()}`);
  });
  return page;
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

// ---- the API, for setting the scene quickly --------------------------------

export async function apiCall(env, method, p, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { h['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const res = await fetch(env.base + '/api/v1' + p, { method, headers: h, body: payload });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
  return { status: res.status, json };
}

export async function signIn(env, email, password = 'longpassword1') {
  const r = await apiCall(env, 'POST', '/sessions', { body: { email, password } });
  if (r.status !== 201) throw new Error(`sign-in of ${email}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.token;
}

// The newest link to page ("verify.html", "reset.html") in the mail the
// server wrote for email under DATA/outbox (the embedded default), as a
// person would click it: the path and query, quoted-printable decoded.
export async function outboxLink(env, email, page) {
  return until(async () => {
    const names = (await readdir(path.join(env.data, 'outbox'))).filter((n) => n.endsWith('.eml'))
      .sort((a, b) => parseInt(b, 10) - parseInt(a, 10));
    for (const n of names) {
      const raw = await readFile(path.join(env.data, 'outbox', n), 'utf8');
      const to = /\r\nTo: [^\r]*<([^>]+)>/.exec(raw);
      if (!to || to[1].toLowerCase() !== email.toLowerCase()) continue;
      const text = raw.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (m, x) => String.fromCharCode(parseInt(x, 16)));
      const link = new RegExp(`https?://[^/\\s]+(/${page.replace('.', '\\.')}\\?token=[A-Za-z0-9_-]+)`).exec(text);
      if (link) return link[1];
    }
    return null;
  }, `a ${page} mail to ${email}`);
}

// Verify an address the way its owner would: follow the mailed link.
export async function verifyByMail(env, email) {
  const link = await outboxLink(env, email, 'verify.html');
  const token = new URL(link, env.base).searchParams.get('token');
  const r = await apiCall(env, 'POST', `/email-verifications/${token}`);
  if (r.status !== 204) throw new Error(`verification of ${email}: ${r.status} ${JSON.stringify(r.json)}`);
}

export async function signUp(env, email, name, password = 'longpassword1') {
  const r = await apiCall(env, 'POST', '/users', { body: { email, password, name } });
  if (r.status !== 201) throw new Error(`sign-up of ${email}: ${r.status} ${JSON.stringify(r.json)}`);
  await verifyByMail(env, email);
  return signIn(env, email, password);
}

export async function corpusFile(name) {
  return readFile(path.join(corpus, 'real', name));
}

// Upload files as a contributor through the API; returns the new ids.
export async function uploadFiles(env, token, names, fields = () => ({})) {
  const ids = [];
  for (const name of names) {
    const form = new FormData();
    form.append('file', new Blob([await corpusFile(name)]), name);
    for (const [k, v] of Object.entries(fields(name))) form.append(k, v);
    const r = await apiCall(env, 'POST', '/images', { token, body: form });
    if (r.status === 202) ids.push(r.json.id);
  }
  return ids;
}

export async function waitProcessed(env, token, ids) {
  await until(async () => {
    const r = await apiCall(env, 'GET', '/me/images?limit=100', { token });
    const mine = r.json.items.filter((i) => ids.includes(i.id));
    return mine.length === ids.length && mine.every((i) => i.status !== 'processing');
  }, 'uploads to be processed', 60000);
}

export async function approveAll(env, adminToken, ids) {
  for (const id of ids) {
    await apiCall(env, 'POST', `/images/${id}/review`, { token: adminToken, body: { decision: 'approve' } });
  }
}

// Small photos of the corpus that the store accepts, for a full first page.
export const SEED = [
  '28-pillow-flower.jpg', '33-mpl-grace_hopper.jpg', '34-skimage-rocket.jpg', '36-vips-sample.jpg', '39-vips-rotation-1.jpg',
  '31-rust-jpeg-tower_grayscale.jpg', '25-exiv2-Reagan.jpg', '24-exiv2-exiv2-bug884b.jpg', '29-pillow-iptc.jpg', '30-goexif-sample1.jpg',
  '23-exiv2-DSC_3079.jpg', '52-go-video-001.cmyk.jpeg', '51-ljt-testorig12.jpg', '57-goximage-yellow_rose.png', '60-skimage-astronaut.png',
  '61-skimage-camera.png', '62-skimage-page.png', '58-pillow-hopper_wal.png', '54-vips-sample.png', '63-exiv2-exiv2-bug1199.webp',
  '65-goximage-yellow_rose.lossless.webp', '47-pillow-hopper_orientation_6.webp', '13-libheif-example.avif', '11-exiv2-Stonehenge.heic',
  '73-exiv2-test.tiff', '70-goximage-video-001-paletted.tiff', '18-plasma-Grey-2560x1600.jpg', '14-exiv2-avif.avif',
];

// Measure what a page loads: bytes of script and style.
export async function assetBytes(page) {
  return page.evaluate(() => [...performance.getEntriesByType('resource')
    .filter((e) => e.initiatorType === 'script' || e.initiatorType === 'link' || e.initiatorType === 'css' || /\.(m?js|css)(\?|$)/.test(e.name))
    .filter((e) => /\.(m?js|css)(\?|$)/.test(e.name))
    .reduce((acc, e) => { acc.set(e.name, e.decodedBodySize || e.encodedBodySize || 0); return acc; }, new Map()).values()].reduce((a, b) => a + b, 0));
}
