// Buying credits through Stripe in Chromium: the store runs with
// --payment-provider stripe against the fake Stripe API of
// tests/services/stripe, whose hosted checkout page sends the signed
// webhook and redirects like Stripe's. A buyer pays, comes back, sees the
// credits and licenses a photo; another cancels and is told so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  root, start, newPage, shot, until, apiCall, signUp, signIn, uploadFiles, waitProcessed, approveAll, ADMIN,
} from './run.mjs';

const KEY = 'sk_test_browser';
const SECRET = 'whsec_browser';
let env, fake, fakeDir, fakeBase, photo;

async function startFake() {
  fakeDir = await mkdtemp(path.join(tmpdir(), 'stockroom-fake-stripe-'));
  const portFile = path.join(fakeDir, 'port');
  fake = spawn(process.execPath, [path.join(root, 'tests/services/stripe/server.mjs'), '--port-file', portFile],
    { env: { ...process.env, FAKE_STRIPE_KEY: KEY, FAKE_STRIPE_WEBHOOK_SECRET: SECRET }, stdio: 'ignore' });
  const port = await until(async () => existsSync(portFile) && Number(await readFile(portFile, 'utf8')), 'the fake Stripe');
  fakeBase = `http://127.0.0.1:${port}`;
}

async function signInPage(email) {
  const page = await newPage(env);
  await page.goto('/signin.html?next=%2Fcredits.html');
  await page.fill('#email', email);
  await page.fill('#password', 'longpassword1');
  await page.keyboard.press('Enter');
  await page.waitForURL('**/credits.html');
  await page.waitForSelector('button[data-pack="10"]');
  return page;
}

before(async () => {
  await startFake();
  env = await start({
    extra: ['--payment-provider', 'stripe', '--stripe-api-url', fakeBase],
    env: { STOCKROOM_STRIPE_SECRET_KEY: KEY, STOCKROOM_STRIPE_WEBHOOK_SECRET: SECRET },
  });
  await fetch(`${fakeBase}/_control/webhook`, { method: 'POST', body: JSON.stringify({ url: `${env.base}/api/v1/webhooks/stripe` }) });
  const seller = await signUp(env, 'sol@example.com', 'Sol Seller');
  const admin = await signIn(env, ADMIN.email, ADMIN.password);
  const ids = await uploadFiles(env, seller, ['28-pillow-flower.jpg'], () => ({ title: 'Flower', keywords: 'flower,garden,spring,petal,bloom' }));
  await waitProcessed(env, seller, ids);
  await approveAll(env, admin, ids);
  [photo] = ids;
});

after(async () => {
  if (env) await env.stop();
  if (fake) fake.kill('SIGTERM');
  if (fakeDir) await rm(fakeDir, { recursive: true, force: true });
});

test('a buyer pays on the checkout page, comes back to credits, and licenses a photo', async () => {
  await signUp(env, 'pia@example.com', 'Pia Payer');
  const page = await signInPage('pia@example.com');
  await page.click('button[data-pack="10"]');
  await page.waitForURL(`${fakeBase}/pay/**`);
  await shot(page, 'stripe-checkout');
  await page.click('#pay');
  await page.waitForURL('**/credits.html?**checkout=success**');
  await until(async () => /10 credits added/.test(await page.textContent('#purchase-result')), 'the credits');
  assert.match(await page.textContent('.credits-pill'), /10 credits/);
  await until(async () => /settled/.test(await page.textContent('#purchases')), 'the purchase listed settled');
  await shot(page, 'stripe-back');
  // The receipt, printable.
  await page.click('#purchases a:text-is("Receipt")');
  await page.waitForSelector('#receipt');
  assert.match(await page.textContent('#receipt'), /Card ending 4242/);
  assert.match(await page.textContent('#receipt'), /\$15\.00/);
  // And the credits buy a licence.
  await page.goto(`/image.html?id=${photo}`);
  await page.waitForSelector('#licence-button');
  await page.click('#licence-button');
  await page.waitForSelector('#download-link');
  assert.deepEqual(page.problems, []);
});

test('a buyer who cancels the checkout is told so and charged nothing', async () => {
  await signUp(env, 'cy@example.com', 'Cy Canceller');
  const page = await signInPage('cy@example.com');
  await page.click('button[data-pack="10"]');
  await page.waitForURL(`${fakeBase}/pay/**`);
  await page.click('#cancel');
  await page.waitForURL('**/credits.html?**checkout=cancel**');
  await until(async () => /cancelled/.test(await page.textContent('#purchase-result')), 'the cancel message');
  assert.match(await page.textContent('.credits-pill'), /0 credits/);
  const me = await apiCall(env, 'GET', '/me', { token: await signIn(env, 'cy@example.com') });
  assert.equal(me.json.credits, 0);
  assert.deepEqual(page.problems, []);
});
