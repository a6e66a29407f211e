// Forgotten password, end to end in Chromium: "Forgot password?" on the
// sign-in page, the mail in DATA/outbox, the link, a new password, and the
// person is signed in with it; the old password and old sessions are dead.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, newPage, shot, apiCall, signUp, signIn, outboxLink } from './run.mjs';

let env;

before(async () => {
  env = await start();
});

after(async () => {
  if (env) await env.stop();
});

test('forgot password -> mail -> new password -> signed in', async () => {
  const email = 'rita@example.com';
  const old = await signUp(env, email, 'Rita Reset', 'longpassword1');
  const page = await newPage(env);
  await page.goto('/signin.html');
  await page.click('#forgot-link');
  await page.waitForURL('**/forgot.html');
  await page.fill('#email', email);
  await page.click('#forgot-form button[type=submit]');
  await page.waitForSelector('text=Check your mail');
  await shot(page, 'forgot-sent');

  await page.goto(await outboxLink(env, email, 'reset.html'));
  await page.fill('#email', email);
  await page.fill('#password', 'short');
  await page.click('#reset-form button[type=submit]');
  await page.waitForSelector('#password-error:not([hidden])');
  await page.fill('#password', 'a brand new password');
  await page.click('#reset-form button[type=submit]');
  await page.waitForURL('**/account.html?reset=1');
  await page.waitForSelector('text=Your new password is set and you are signed in.');
  await page.waitForSelector('table.sessions');
  await shot(page, 'account-after-reset');
  const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
  assert.equal(me.email, email);

  assert.equal((await apiCall(env, 'GET', '/me', { token: old })).status, 401);
  assert.equal((await apiCall(env, 'POST', '/sessions', { body: { email, password: 'longpassword1' } })).status, 401);
  assert.ok(await signIn(env, email, 'a brand new password'));
  assert.deepEqual(page.problems, []);
});

test('the account page signs other sessions out', async () => {
  const email = 'otto@example.com';
  const other = await signUp(env, email, 'Otto Other', 'longpassword1');
  const page = await newPage(env);
  await page.goto('/signin.html');
  await page.fill('#email', email);
  await page.fill('#password', 'longpassword1');
  await page.click('#signin-form button[type=submit]');
  await page.waitForURL((u) => !u.pathname.endsWith('/signin.html'));
  await page.goto('/account.html');
  await page.waitForSelector('table.sessions tbody tr:nth-child(2)');
  await page.click('#signout-others');
  await page.waitForFunction(() => document.querySelectorAll('table.sessions tbody tr').length === 1);
  assert.equal((await apiCall(env, 'GET', '/me', { token: other })).status, 401);
  assert.deepEqual(page.problems, []);
});
