// Trust and safety in Chromium: drafts in the upload studio, the editorial
// label and the report form on the image page, and the admin console
// taking a reported photo down and suspending an account, by keyboard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  start, newPage, shot, until, apiCall, signUp, signIn, uploadFiles, waitProcessed, ADMIN,
} from './run.mjs';

let env, contrib, admin;
const PASSWORD = 'longpassword1';

function noProblems(page) {
  assert.deepEqual(page.problems, [], 'no script errors, CSP refusals or dialogs');
}

async function signedInPage(email, next) {
  const page = await newPage(env);
  await page.goto(`/signin.html?next=${encodeURIComponent(next)}`);
  await page.fill('#email', email);
  await page.fill('#password', email === ADMIN.email ? ADMIN.password : PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(`**${next}`);
  return page;
}

before(async () => {
  env = await start({ args: ['--min-keywords', '5'] });
  contrib = await signUp(env, 'dora@example.com', 'Dora Draft');
  admin = await signIn(env, ADMIN.email, ADMIN.password);
});

after(async () => {
  if (env) await env.stop();
});

test('a draft says what it lacks in the upload studio and goes to review once described', async () => {
  const [id] = await uploadFiles(env, contrib, ['28-pillow-flower.jpg']);
  await waitProcessed(env, contrib, [id]);
  const page = await signedInPage('dora@example.com', '/upload.html');
  const row = `#mine li[data-id="${id}"]`;
  await page.waitForSelector(`${row} .badge.draft`);
  assert.match(await page.textContent(`${row} .missing`), /a title and at least five keywords/);
  await page.click(`${row} .submit-draft`);
  await until(() => page.evaluate((r) => /at least five keywords/.test(document.querySelector(`${r} .state`).textContent) &&
    document.querySelector(`${r} .field-error`), row), 'the refusal');
  await page.fill(`#m-${id}-title`, 'Pink flower in the garden');
  await page.fill(`#m-${id}-keywords`, 'flower, pink, garden, petals, spring');
  await page.click(`${row} .save-box button`);
  await until(() => page.evaluate((r) => /Saved/.test(document.querySelector(`${r} .save-box`).textContent), row), 'the save');
  await until(() => page.evaluate((r) => /Ready for review/.test(document.querySelector(`${r} .state`).textContent), row), 'ready');
  await page.click(`${row} .submit-draft`);
  await page.waitForSelector(`${row} .badge.pending_review`);
  await shot(page, 'upload-draft-submitted');
  noProblems(page);
});

test('an editorial photo is labelled, sold for editorial use only, and anyone can report it', async () => {
  const [id] = await uploadFiles(env, contrib, ['33-mpl-grace_hopper.jpg'],
    () => ({ title: 'Speaker at the conference', keywords: 'speaker, conference, stage, talk, event' }));
  await waitProcessed(env, contrib, [id]);
  assert.equal((await apiCall(env, 'POST', `/images/${id}/review`, { token: admin, body: { decision: 'approve' } })).status, 200);
  const r = await apiCall(env, 'PATCH', `/images/${id}`, { token: contrib, body: { editorial: true, caption: 'Keynote, Lisbon, 2026-11-04' } });
  assert.equal(r.status, 200);

  const page = await newPage(env);
  await page.goto(`/image.html?id=${id}`);
  await page.waitForSelector('#editorial-label');
  assert.match(await page.textContent('#editorial-label'), /Editorial use only.*Keynote, Lisbon, 2026-11-04/);
  assert.equal(await page.$('#type-extended'), null, 'no extended licence offered');
  await page.goto('/?q=conference');
  await page.waitForSelector(`.tile[data-id="${id}"] .tile-label`);
  await page.goto(`/image.html?id=${id}`);
  await page.click('details.report summary');
  await page.selectOption('#report-reason', 'privacy');
  await page.fill('#report-details', 'This is me, and I never agreed.');
  await page.fill('#report-email', 'grace@example.com');
  await page.click('#report-form button[type="submit"]');
  await until(() => page.evaluate(() => /Thank you/.test(document.querySelector('details.report').textContent)), 'the report');
  await shot(page, 'image-editorial-report');
  noProblems(page);
  env.reported = id;
});

test('the admin console takes the reported photo down and suspends an account, by keyboard', async () => {
  const page = await signedInPage(ADMIN.email, '/admin.html');
  await page.waitForSelector('#console-panel[data-section="reports"] tbody tr');
  const row = `#console-panel tr:has(a[href*="${env.reported}"])`;
  assert.match(await page.textContent(row), /privacy/);
  await page.keyboard.press('j');
  await until(() => page.evaluate(() => document.activeElement && document.activeElement.closest('tr.current')), 'a row chosen');
  await page.click(`${row} .takedown`);
  await page.fill(`${row} .reason-input`, 'Privacy complaint by the person shown.');
  await page.keyboard.press('Enter');
  await until(() => page.evaluate(() => /Taken down/.test(document.getElementById('console-flash').textContent)), 'the take-down');
  assert.equal((await apiCall(env, 'GET', `/images/${env.reported}`)).status, 410);

  await page.keyboard.press('2');
  await page.waitForSelector('#photo-state');
  await page.selectOption('#photo-state', 'taken_down');
  await page.waitForSelector(`#console-panel tr[data-id="${env.reported}"] .restore`);

  await page.keyboard.press('4');
  await page.waitForSelector('#user-search');
  await page.keyboard.press('/');
  await page.keyboard.type('dora');
  await page.keyboard.press('Enter');
  await until(() => page.evaluate(() => document.querySelectorAll('#console-panel tbody tr').length === 1), 'one user found');
  await page.click('#console-panel .suspend');
  await page.fill('#console-panel .reason-input', 'Repeated privacy complaints.');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#console-panel .unsuspend');
  assert.equal((await apiCall(env, 'GET', '/me', { token: contrib })).status, 401, 'the session ended');

  await page.keyboard.press('7');
  await until(() => page.evaluate(() => /suspend/.test(document.getElementById('console-panel').textContent) &&
    /takedown/.test(document.getElementById('console-panel').textContent)), 'the audit log');
  await page.keyboard.press('6');
  await page.waitForSelector('#books');
  assert.match(await page.textContent('#books'), /The books balance/);
  await shot(page, 'admin-console');
  noProblems(page);
});

test('the console is for admins only', async () => {
  await signUp(env, 'nosy@example.com', 'Nosy Parker');
  const page = await signedInPage('nosy@example.com', '/admin.html');
  await page.waitForSelector('text=Not for this account');
  noProblems(page);
});
