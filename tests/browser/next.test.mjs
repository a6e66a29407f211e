// After signing in, the page goes back to where the visitor came from only
// when that is a path of this site: a crafted ?next= that a browser would
// read as another origin (a tab or newline it drops, a backslash it reads
// as "/", a scheme, the same in percent-encoded form) lands on "/" instead
// (issue 11, item 9).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, newPage, signUp, until } from './run.mjs';

const EMAIL = 'nora.next@example.com';
const PASSWORD = 'longpassword1';
const EVIL = [
  '/\t/evil.example', '/\n/evil.example', '//evil.example', '/\\evil.example', 'https://evil.example/',
  'https:evil.example', 'javascript:alert(1)', '%2F%2Fevil.example', '/%2F/evil.example', '/%5Cevil.example',
  '/%09/evil.example', ' //evil.example',
];

let env;

before(async () => {
  env = await start();
  await signUp(env, EMAIL, 'Nora Next', PASSWORD);
});

after(async () => { if (env) await env.stop(); });

async function signInWithNext(next) {
  const page = await newPage(env);
  const left = [];
  // Nothing leaves the machine, even when the page goes wrong: a request
  // elsewhere is noted and cut off before any name is looked up.
  await page.context().route((u) => u.origin !== env.base, (route) => {
    left.push(route.request().url());
    return route.abort();
  });
  await page.goto(`/signin.html?next=${encodeURIComponent(next)}`);
  await page.fill('#email', EMAIL);
  await page.fill('#password', PASSWORD);
  await page.click('#signin-form button[type=submit]');
  await until(() => left.length > 0 || !page.url().includes('/signin.html'), 'the page after sign-in');
  await page.waitForLoadState();
  const url = new URL(page.url());
  assert.deepEqual(page.problems, [], `no script errors for next=${JSON.stringify(next)}`);
  await page.context().close();
  return { url, left };
}

test('a crafted next= after sign-in falls back to the home page', async () => {
  for (const next of EVIL) {
    const { url, left } = await signInWithNext(next);
    assert.deepEqual(left, [], `next=${JSON.stringify(next)} sent the browser elsewhere`);
    assert.equal(url.origin, env.base, `next=${JSON.stringify(next)} left the site for ${url}`);
    assert.equal(url.pathname + url.search, '/', `next=${JSON.stringify(next)} went to ${url}`);
  }
});

test('a path of this site is where sign-in returns to', async () => {
  const { url } = await signInWithNext('/credits.html?next=%2Fdownloads.html');
  assert.equal(url.origin, env.base);
  assert.equal(url.pathname + url.search, '/credits.html?next=%2Fdownloads.html');
});
