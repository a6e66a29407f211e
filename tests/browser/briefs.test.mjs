// Briefs in the browser, end to end: a buyer whose search finds nothing
// posts a brief from the empty results, a contributor answers it with one
// of their photos, the buyer awards it (with a confirmation step) and
// downloads the winning photo, and the contributor sees the win.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import {
  start, newPage, shot, apiCall, signUp, signIn, uploadFiles, waitProcessed, approveAll, ADMIN,
} from './run.mjs';

const PASSWORD = 'longpassword1';
let env;

before(async () => { env = await start(); });
after(async () => { if (env) await env.stop(); });

async function signInPage(email, next) {
  const page = await newPage(env);
  await page.goto(`/signin.html?next=${encodeURIComponent(next)}`);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(`**${next}`);
  return page;
}

test('no results, a posted brief, a submission, an award and the download', async () => {
  // The scene: a buyer with credits, a contributor with an approved photo.
  const buyerTok = await signUp(env, 'brenda@example.com', 'Brenda Buyer');
  const buy = await apiCall(env, 'POST', '/credits/purchases', { token: buyerTok, body: { pack: '30' }, headers: { 'Idempotency-Key': 'brenda-30' } });
  assert.equal(buy.status, 201);
  const contribTok = await signUp(env, 'colin@example.com', 'Colin Contributor');
  const [photo] = await uploadFiles(env, contribTok, ['33-mpl-grace_hopper.jpg'],
    () => ({ title: 'Zebra crossing at night', keywords: 'zebra crossing,night,street' }));
  await waitProcessed(env, contribTok, [photo]);
  await approveAll(env, await signIn(env, ADMIN.email, ADMIN.password), [photo]);

  // The buyer searches for what is not there and posts a brief from it.
  const buyer = await signInPage('brenda@example.com', '/?q=lighthouse%20in%20fog');
  await buyer.waitForSelector('#post-brief');
  await buyer.click('#post-brief');
  await buyer.waitForSelector('#brief-form');
  assert.equal(await buyer.inputValue('#title'), 'lighthouse in fog');
  await buyer.fill('#title', 'Lighthouse in fog, from the sea');
  await buyer.fill('#bounty_credits', '21');
  await buyer.click('#brief-post');
  await buyer.waitForURL('**/brief.html?id=*');
  await buyer.waitForSelector('#brief-status');
  assert.match(await buyer.textContent('#brief-status'), /Open for submissions/);
  assert.match(await buyer.textContent('.credits-pill'), /9 credits/);
  const briefId = new URL(buyer.url()).searchParams.get('id');
  await shot(buyer, 'brief-posted');

  // The contributor finds it and answers with their photo.
  const contrib = await signInPage('colin@example.com', '/briefs.html');
  await contrib.waitForSelector(`a[href="/brief.html?id=${briefId}"]`);
  await contrib.click(`a[href="/brief.html?id=${briefId}"]`);
  await contrib.waitForSelector(`#my-photo option[value="${photo}"]`, { state: 'attached' });
  await contrib.selectOption('#my-photo', photo);
  await contrib.click('#submit-photo');
  await contrib.waitForSelector('#subs .sub');
  assert.match(await contrib.textContent('#subs'), /counted/);
  await shot(contrib, 'brief-answered');

  // The buyer picks it, confirms, and downloads the winning photo.
  await buyer.reload();
  await buyer.waitForSelector('#subs .sub .pick');
  await buyer.check('#subs .sub .pick');
  await buyer.click('#award-button');
  assert.match(await buyer.textContent('#award-area'), /Pay 21 credits to 1 winner/);
  await buyer.click('#award-confirm');
  await buyer.waitForSelector('#subs a.download');
  assert.match(await buyer.textContent('#brief-status'), /Awarded/);
  const [download] = await Promise.all([buyer.waitForEvent('download'), buyer.click('#subs a.download')]);
  const saved = path.join(env.data, 'brief-winner.jpg');
  await download.saveAs(saved);
  assert.ok((await stat(saved)).size > 1000, 'the winning photo arrived');
  await shot(buyer, 'brief-awarded');

  // The contributor sees the win and its earnings.
  await contrib.goto('/dashboard.html');
  await contrib.waitForSelector('#brief-wins li');
  assert.match(await contrib.textContent('#brief-wins'), /Lighthouse in fog/);
  const earn = await apiCall(env, 'GET', '/me/earnings', { token: contribTok });
  assert.equal(earn.json.sales[0].royalty_rate_bp, 6000);
  assert.deepEqual(buyer.problems, []);
  assert.deepEqual(contrib.problems, []);
});
