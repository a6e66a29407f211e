// Privacy in the browser (issue 11, items 8 and 14): a visitor's page loads
// print no console error (no 401 from asking who is signed in), and a
// certificate, which names its buyer, reaches others only through the link
// the buyer shares from My downloads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  start, newPage, apiCall, signUp, signIn, uploadFiles, waitProcessed, approveAll, ADMIN,
} from './run.mjs';

let env;
let imageId;
let licenceId;

// Every console error and failed request of a page, as text.
function watch(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('requestfailed', (r) => errors.push(`failed: ${r.url()}`));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()}: ${r.url()}`); });
  return errors;
}

before(async () => {
  env = await start();
  const contributor = await signUp(env, 'pia@example.com', 'Pia Photographer');
  const admin = await signIn(env, ADMIN.email, ADMIN.password);
  [imageId] = await uploadFiles(env, contributor, ['28-pillow-flower.jpg'], () => ({ title: 'A flower', keywords: 'flower' }));
  await waitProcessed(env, contributor, [imageId]);
  await approveAll(env, admin, [imageId]);
  const buyer = await signUp(env, 'ben@example.com', 'Ben Buyer');
  let r = await apiCall(env, 'POST', '/credits/purchases', { token: buyer, body: { pack: '10' }, headers: { 'Idempotency-Key': 'privacy-pack' } });
  assert.equal(r.status, 201);
  const img = await apiCall(env, 'GET', `/images/${imageId}`);
  const size = img.json.sizes[0].name;
  r = await apiCall(env, 'POST', '/licences', { token: buyer, body: { image_id: imageId, size }, headers: { 'Idempotency-Key': 'privacy-licence' } });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  licenceId = r.json.id;
});

after(async () => {
  if (env) await env.stop();
});

test('a visitor\'s page loads print no console error', async () => {
  const page = await newPage(env);
  const errors = watch(page);
  for (const url of ['/', `/image.html?id=${imageId}`, '/signin.html', '/signup.html', '/?q=flower']) {
    await page.goto(url);
    await page.waitForSelector('header.site a:text-is("Sign in")');
    await page.waitForLoadState('networkidle');
  }
  assert.deepEqual(errors, [], 'no console errors or failed requests');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the buyer shares the certificate from My downloads; nobody else sees it', async () => {
  // Without the buyer's link a visitor finds no such licence.
  const visitor = await newPage(env);
  await visitor.goto(`/certificate.html?id=${licenceId}`);
  await visitor.waitForSelector('h1:text-is("No such licence")');

  const page = await newPage(env);
  const login = await page.request.post(env.base + '/api/v1/sessions', { data: { email: 'ben@example.com', password: 'longpassword1' } });
  assert.equal(login.status(), 201);
  await page.goto('/downloads.html');
  await page.waitForSelector('#licences li');
  await page.click('#licences li .share-certificate');
  await page.waitForSelector('#licences li .share-link');
  const link = await page.inputValue('#licences li .share-link');
  assert.match(link, new RegExp(`/certificate\\.html\\?id=${licenceId}&token=`));
  assert.deepEqual(page.problems, []);

  await visitor.goto(link);
  await visitor.waitForSelector('#verdict.valid');
  assert.match(await visitor.textContent('#cert-facts'), /Ben Buyer/);
  assert.deepEqual(visitor.problems, []);
  await visitor.context().close();
  await page.context().close();
});
