// Every journey of DESIGN.md "Who uses it", end to end in Chromium through
// the real server: a contributor uploads by drag and drop, a reviewer works
// the queue with the keyboard, a buyer searches, buys credits, licenses,
// downloads and checks the certificate, and the contributor sees the sale.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import {
  start, newPage, shot, until, apiCall, signUp, signIn, corpusFile, uploadFiles, waitProcessed, approveAll,
  SEED, ADMIN, outboxLink,
} from './run.mjs';

const FILES = [
  { name: '17-plasma-BytheWater-2560x1600.jpg', type: 'image/jpeg', title: 'Jetty by the water at dusk' },
  { name: '59-skimage-chelsea.png', type: 'image/png', title: 'Tabby cat portrait' },
  { name: '66-vips-1.webp', type: 'image/webp', title: 'Fjord from the cliff' },
];
const REJECT = '66-vips-1.webp';
const XSS = '<img src=x onerror=alert(1)>';
const PASSWORD = 'longpassword1';

let env;
const ids = {};            // file name -> image id
const actors = {};         // name -> page
let licenceId;

async function pageAs(name, opts) {
  const page = await newPage(env, opts);
  actors[name] = page;
  return page;
}

function noProblems(page) {
  assert.deepEqual(page.problems, [], 'no script errors, CSP refusals or dialogs');
}

before(async () => {
  env = await start();
  // A catalogue to search in: another contributor's photos, approved.
  const seedToken = await signUp(env, 'seed@example.com', 'Sam Seed');
  const admin = await signIn(env, ADMIN.email, ADMIN.password);
  const seeded = await uploadFiles(env, seedToken, SEED, (n) => ({ title: `Sample ${n.replace(/^\d+-|\.\w+$/g, '').replace(/[-_]/g, ' ')}`, keywords: 'sample,catalogue' }));
  await waitProcessed(env, seedToken, seeded);
  await approveAll(env, admin, seeded);
  env.seeded = seeded.length;
});

after(async () => {
  if (env) await env.stop();
});

test('a contributor signs up and uploads three photos by drag and drop', async () => {
  const page = await pageAs('contributor');
  await page.goto('/signup.html?next=%2Fupload.html');
  // A field error from the server lands on its field.
  await page.fill('#name', 'Carla Contributor');
  await page.fill('#email', 'carla@example.com');
  await page.fill('#password', 'short');
  await page.click('#signup-form button[type=submit]');
  await page.waitForSelector('#password-error:not([hidden])');
  assert.match(await page.textContent('#password-error'), /10 characters/);
  assert.equal(await page.getAttribute('#password', 'aria-invalid'), 'true');
  await page.fill('#password', PASSWORD);
  await page.click('#signup-form button[type=submit]');
  await page.waitForURL('**/upload.html');
  // Uploads wait for a confirmed address: the banner says so, and the
  // link in the mail confirms it.
  await page.waitForSelector('.verify-banner');
  await page.goto(await outboxLink(env, 'carla@example.com', 'verify.html'));
  await page.waitForSelector('text=Address confirmed');
  await page.goto('/upload.html');
  await page.waitForSelector('#drop-zone');
  assert.equal(await page.$('.verify-banner'), null);
  await shot(page, 'upload-empty');

  const files = [];
  for (const f of FILES) files.push({ ...f, b64: (await corpusFile(f.name)).toString('base64') });
  // An unsupported file is refused at once with the server's reason.
  files.push({ name: 'notes.txt', type: 'text/plain', b64: Buffer.from('not a photo at all, just some text').toString('base64') });
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    const zone = document.getElementById('drop-zone');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }
  }, files);
  await until(() => page.evaluate(() => document.querySelectorAll('#uploads li.done').length === 3), 'three uploads to finish');
  await page.waitForSelector('#uploads li.bad');
  assert.match(await page.textContent('#uploads li.bad'), /Refused/);
  for (const f of FILES) {
    ids[f.name] = await page.getAttribute(`#uploads li[data-name="${f.name}"]`, 'data-id');
    assert.ok(ids[f.name], `an id for ${f.name}`);
  }
  // Each photo appears in "Your photos" and moves on to review by itself.
  await until(() => page.evaluate((list) => list.every((id) => {
    const row = document.querySelector(`#mine li[data-id="${id}"]`);
    return row && /Waiting for review/.test(row.textContent) && /in the review queue/.test(row.textContent);
  }), Object.values(ids)), 'the photos to wait for review', 60000);
  await shot(page, 'upload-done');

  // Titles one by one, keywords for the selection at once.
  for (const f of FILES) {
    const id = ids[f.name];
    await page.fill(`#m-${id}-title`, f.title);
    await page.click(`#mine li[data-id="${id}"] .save-box button`);
    await until(() => page.evaluate((i) => /Saved/.test(document.querySelector(`#mine li[data-id="${i}"] .save-box`).textContent), id), 'the title to save');
    await page.check(`#m-${id}-sel`);
  }
  await page.waitForSelector('#bulk-form');
  assert.match(await page.textContent('#bulk-count'), /3 photos selected/);
  await page.fill('#bulk-add', 'harbour, evening light');
  await page.click('#bulk-form button[type=submit]');
  await until(() => page.evaluate(() => /Saved 3 of 3/.test(document.getElementById('bulk-form').textContent)), 'the bulk edit');
  const r = await apiCall(env, 'GET', `/images/${ids[FILES[0].name]}`, { token: await signIn(env, 'carla@example.com') });
  assert.equal(r.json.title, FILES[0].title);
  assert.ok(r.json.keywords.includes('harbour') && r.json.keywords.includes('evening light'), 'bulk keywords saved');
  noProblems(page);
});

test('a reviewer approves two and rejects one, with the keyboard only', async () => {
  const page = await pageAs('reviewer');
  await page.goto('/signin.html?next=%2Freview.html');
  await page.fill('#email', ADMIN.email);
  await page.fill('#password', ADMIN.password);
  await page.keyboard.press('Enter');
  await page.waitForURL('**/review.html');
  await page.waitForSelector('#desk[data-current]');
  assert.match(await page.textContent('#queue-count'), /3 waiting/);
  await shot(page, 'review');
  const rejectId = ids[REJECT];
  for (let n = 0; n < 3; n++) {
    const current = await page.getAttribute('#desk', 'data-current');
    assert.ok(Object.values(ids).includes(current), 'a photo of the contributor is on the desk');
    if (current === rejectId) {
      await page.keyboard.press('r');
      await until(() => page.evaluate(() => document.activeElement && document.activeElement.name === 'reason_code'), 'focus on the reasons');
      await page.keyboard.press('ArrowDown');           // poor_quality
      await page.keyboard.press('Tab');
      await page.keyboard.type('The horizon is tilted and the sky is noisy.');
      await page.keyboard.press('Enter');
    } else {
      await page.keyboard.press('a');
    }
    await until(() => page.evaluate((c) => document.getElementById('desk').dataset.current !== c, current), 'the next photo');
  }
  await page.waitForSelector('#queue-empty');
  const admin = await signIn(env, ADMIN.email, ADMIN.password);
  for (const f of FILES) {
    const img = (await apiCall(env, 'GET', `/images/${ids[f.name]}`, { token: admin })).json;
    if (f.name === REJECT) {
      assert.equal(img.status, 'rejected');
      assert.equal(img.reject_code, 'poor_quality');
      assert.match(img.reject_reason, /horizon is tilted/);
    } else {
      assert.equal(img.status, 'approved');
    }
  }
  noProblems(page);
});

test('a buyer searches, filters, buys credits, licenses, downloads and checks the certificate', async () => {
  const page = await pageAs('buyer');
  await page.goto('/');
  await page.waitForSelector('#results .tile');
  await shot(page, 'search');
  await page.fill('#site-q', 'harbour');
  await page.keyboard.press('Enter');
  await until(() => page.evaluate(() => document.querySelectorAll('#results .tile').length === 2), 'two harbour photos');
  assert.match(page.url(), /\?q=harbour/);
  await page.click('.filters button:text-is("Portrait")');
  await page.waitForSelector('.status .empty, #results .tile', { state: 'attached' });
  await until(() => page.evaluate(() => /No photos match/.test(document.querySelector('.status').textContent)), 'no portrait harbour photos');
  assert.match(page.url(), /orientation=portrait/);
  await page.goBack();
  await until(() => page.evaluate(() => document.querySelectorAll('#results .tile').length === 2), 'back to two results');
  await page.click('.filters button:text-is("Landscape")');
  await until(() => page.evaluate(() => document.querySelectorAll('#results .tile').length === 2 && /orientation=landscape/.test(location.search)), 'landscape filter');
  await page.selectOption('#f-sort', 'newest');
  await until(() => page.evaluate(() => /sort=newest/.test(location.search) && document.querySelectorAll('#results .tile').length === 2), 'sorted');
  const jetty = ids[FILES[0].name];
  await shot(page, 'search-filtered');
  await page.click(`#results .tile[data-id="${jetty}"]`);
  await page.waitForSelector('#licence-button');
  assert.equal(await page.textContent('#image-title'), FILES[0].title);
  await shot(page, 'image');

  // Signed out, the licence button asks to sign in; sign up from there.
  await page.click('#licence-button');
  await page.click('#licence-result a:text-is("create an account")');
  await page.fill('#name', 'Bea Buyer');
  await page.fill('#email', 'bea@example.com');
  await page.fill('#password', PASSWORD);
  await page.click('#signup-form button[type=submit]');
  await page.waitForURL(`**/image.html?id=${jetty}`);
  await page.waitForSelector('.credits-pill');
  assert.match(await page.textContent('.credits-pill'), /0 credits/);

  // No credits yet: a clear 402 and the way to buy some.
  await page.click('#licence-button');
  await page.waitForSelector('#buy-credits');
  assert.match(await page.textContent('#licence-result'), /Not enough credits/);
  await page.click('#buy-credits');
  await page.waitForURL('**/credits.html?next=**');
  await page.waitForSelector('button[data-pack="10"]');
  assert.match(await page.textContent('.packs'), /\$15\.00/);
  await shot(page, 'credits');
  await page.click('button[data-pack="10"]');
  await page.waitForSelector('#continue');
  assert.match(await page.textContent('.credits-pill'), /10 credits/);
  assert.match(await page.textContent('#purchases'), /\$15\.00/);
  // A second pack, refunded at once: unused packs go back within 14 days.
  await page.click('button[data-pack="30"]');
  await until(async () => /40 credits/.test(await page.textContent('.credits-pill')), 'the second pack');
  await page.click('#purchases button[aria-label*="30-credit pack"]');
  await until(async () => /10 credits/.test(await page.textContent('.credits-pill')), 'the refund');
  await until(() => page.evaluate(() => /refunded/.test(document.getElementById('purchases').textContent)), 'the refunded pack listed');
  await page.click('#continue');
  await page.waitForURL(`**/image.html?id=${jetty}`);

  await page.click('label[for="size-S"]');
  assert.match(await page.textContent('#licence-button'), /Licence S for 1 credit/);
  await page.click('#licence-button');
  await page.waitForSelector('#download-link');
  assert.match(await page.textContent('.credits-pill'), /9 credits/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-link')]);
  assert.match(download.suggestedFilename(), /\.jpg$/);
  const saved = path.join(env.data, 'downloaded.jpg');
  await download.saveAs(saved);
  assert.ok((await stat(saved)).size > 1000, 'the licensed file arrived');
  // Now the page knows the licence is held.
  await page.reload();
  await page.click('label[for="size-S"]');
  await until(() => page.evaluate(() => /already hold this licence/.test(document.getElementById('licence-result').textContent)), 'already held');

  // Save it to a new lightbox and share it.
  await page.selectOption('#lb-select', '');
  await page.fill('#lb-new', 'Harbour ideas');
  await page.click('#lb-form button[type=submit]');
  await page.waitForSelector('#lb-form .notice.good a');
  await page.click('#lb-form .notice.good a');
  await page.waitForSelector('#share-button');
  await page.click('#share-button');
  await page.waitForSelector('#share-url');
  const shareUrl = await page.inputValue('#share-url');
  assert.match(shareUrl, /token=/);
  await shot(page, 'lightbox');
  const visitor = await newPage(env);
  await visitor.goto(shareUrl);
  await visitor.waitForSelector(`#lb-grid a[href*="${jetty}"]`);
  assert.equal(await visitor.textContent('#lb-name'), 'Harbour ideas');
  noProblems(visitor);
  await visitor.context().close();

  // My downloads, then the certificate, checked by the store.
  await page.goto('/downloads.html');
  await page.waitForSelector('#licences li');
  licenceId = await page.getAttribute('#licences li', 'data-id');
  assert.equal(await page.getAttribute('#licences li a[download]', 'href'), `/api/v1/licences/${licenceId}/download`);
  await shot(page, 'downloads');
  await page.click('#licences li a:text-is("Certificate")');
  await page.waitForSelector('#verdict.valid');
  assert.match(await page.textContent('#verdict'), /Valid/);
  assert.match(await page.textContent('#cert-facts'), /Bea Buyer/);
  await shot(page, 'certificate');
  // Signing out leaves a visitor's header.
  await page.click('header.site .signout');
  await page.waitForSelector('header.site a:text-is("Sign in")');
  assert.equal(await page.isVisible('.credits-pill'), false);
  noProblems(page);
});

test('the contributor sees the sale, the share and the chart', async () => {
  const page = actors.contributor;
  await page.goto('/dashboard.html');
  await page.waitForSelector('#sales tbody tr');
  const row = await page.textContent('#sales tbody tr');
  assert.match(row, /Jetty by the water/);
  assert.match(row, /\$1\.50/);       // 1 credit of a $15.00 pack of 10
  assert.match(row, /25%/);
  assert.match(row, /\$0\.37/);       // 25% of 150 cents, rounded down
  assert.equal(await page.textContent('#lifetime'), '$0.37');
  const bars = await page.evaluate(() => [...document.querySelectorAll('#earnings-chart rect.bar')].filter((r) => Number(r.getAttribute('height')) > 0).length);
  assert.ok(bars >= 1, 'the chart has a bar');
  assert.match(await page.textContent('#next-tier'), /99 more licences to reach 30%/);
  // A payout below the minimum is refused on its field.
  await page.fill('#amount_cents', '0.37');
  await page.click('#payout-form button[type=submit]');
  await page.waitForSelector('#amount_cents-error:not([hidden])');
  assert.match(await page.textContent('#amount_cents-error'), /start at/);
  await shot(page, 'dashboard');
  // The rejected photo says why, in the studio.
  await page.goto('/upload.html');
  await page.waitForSelector(`#mine li[data-id="${ids[REJECT]}"]`);
  assert.match(await page.textContent(`#mine li[data-id="${ids[REJECT]}"] .state`), /Poor quality: The horizon is tilted/);
  noProblems(page);
});

test('a title that looks like markup stays text everywhere', async () => {
  const page = actors.contributor;
  const id = ids[FILES[1].name];
  await page.goto('/upload.html');
  await page.waitForSelector(`#m-${id}-title`);
  await page.fill(`#m-${id}-title`, XSS);
  await page.click(`#mine li[data-id="${id}"] .save-box button`);
  await until(() => page.evaluate((i) => /Saved/.test(document.querySelector(`#mine li[data-id="${i}"] .save-box`).textContent), id), 'the title to save');
  // The photo is approved, so its new title waits for a reviewer.
  const admin = await signIn(env, ADMIN.email, ADMIN.password);
  const decided = await apiCall(env, 'POST', `/images/${id}/review`, { token: admin, body: { decision: 'approve' } });
  assert.equal(decided.status, 200);
  const visitor = await newPage(env);
  for (const url of [`/image.html?id=${id}`, '/?q=harbour', '/dashboard.html']) {
    const p = url === '/dashboard.html' ? page : visitor;
    await p.goto(url);
    await p.waitForSelector(url.startsWith('/image') ? '#image-title' : url === '/dashboard.html' ? '#per-image' : '#results .tile');
    assert.equal(await p.evaluate(() => document.querySelectorAll('img[src="x"], img[src$="/x"]').length), 0, `no injected image on ${url}`);
  }
  await visitor.goto(`/image.html?id=${id}`);
  await visitor.waitForSelector('#image-title');
  assert.equal(await visitor.textContent('#image-title'), XSS);
  await visitor.goto('/?q=harbour');
  await visitor.waitForSelector(`#results .tile[data-id="${id}"]`);
  assert.equal(await visitor.getAttribute(`#results .tile[data-id="${id}"] img`, 'alt'), XSS);
  noProblems(visitor);
  noProblems(page);
  await visitor.context().close();
});

test('every page fits 360 px, stays under 100 KB of script and style', async () => {
  const jetty = ids[FILES[0].name];
  const lightboxes = await apiCall(env, 'GET', '/lightboxes', { token: await signIn(env, 'bea@example.com') });
  const lb = lightboxes.json.items[0];
  const pages = [
    ['anon', '/', 'search'], ['anon', `/image.html?id=${jetty}`, 'image'], ['anon', '/signin.html', 'signin'],
    ['anon', '/signup.html', 'signup'], ['anon', '/no/such/page', '404'],
    ['bea@example.com', '/credits.html', 'credits'], ['bea@example.com', '/downloads.html', 'downloads'],
    ['bea@example.com', '/lightboxes.html', 'lightboxes'], ['bea@example.com', `/lightboxes.html?id=${lb.id}`, 'lightbox'],
    ['bea@example.com', `/certificate.html?id=${licenceId}`, 'certificate'],
    ['carla@example.com', '/upload.html', 'upload'], ['carla@example.com', '/dashboard.html', 'dashboard'],
    [ADMIN.email, '/review.html', 'review'],
    ['anon', '/forgot.html', 'forgot'], ['carla@example.com', '/account.html', 'account'],
  ];
  const states = {};
  const sizes = [];
  for (const [who, url, name] of pages) {
    if (!(who in states)) {
      states[who] = undefined;
      if (who !== 'anon') {
        const ctx = await env.browser.newContext({ baseURL: env.base });
        const r = await ctx.request.post(env.base + '/api/v1/sessions', { data: { email: who, password: who === ADMIN.email ? ADMIN.password : PASSWORD } });
        assert.equal(r.status(), 201);
        states[who] = await ctx.storageState();
        await ctx.close();
      }
    }
    // A fresh context each time: an empty cache, so every byte is counted.
    const page = await newPage(env, { width: 360, height: 780, storageState: states[who] });
    const loaded = [];
    page.on('response', (res) => {
      if (/\.(m?js|css)$/.test(new URL(res.url()).pathname)) loaded.push(res.body().then((b) => b.length, () => 0));
    });
    await page.goto(url);
    await page.waitForSelector('header.site .site-nav', { state: 'attached' });
    await until(() => page.evaluate(() => !document.querySelector('main .loading')), `${name} to load`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    await shot(page, `360-${name}`);
    assert.ok(width <= 360, `${name} is ${width} px wide at 360`);
    if (who !== 'anon') assert.ok(await page.isVisible('.credits-pill'), `the balance shows on ${name} at 360`);
    const b = (await Promise.all(loaded)).reduce((x, y) => x + y, 0);
    sizes.push(`${name} ${(b / 1024).toFixed(1)} KB`);
    assert.ok(b > 0 && b < 100 * 1024, `${name} loads ${b} bytes of script and style`);
    noProblems(page);
    await page.context().close();
  }
  console.log(`script+style per page: ${sizes.join(', ')}`);
});

test('the search page shows its first 24 thumbnails (measured, not asserted)', async () => {
  assert.ok(env.seeded + 2 >= 24, `enough photos to fill a page (${env.seeded} seeded)`);
  const times = [];
  for (const run of ['cold', 'warm']) {
    const page = await newPage(env);
    if (run === 'warm') await page.goto('/');
    await page.goto('/');
    await until(() => page.evaluate(() => document.documentElement.dataset.thumbsReady), 'the first thumbnails');
    const t = await page.evaluate(() => {
      const m = performance.getEntriesByName('stockroom:first-thumbnails')[0];
      return { ms: m.startTime, n: Number(document.documentElement.dataset.thumbsReady) };
    });
    assert.equal(t.n, 24);
    times.push(`${run} ${t.ms.toFixed(0)} ms`);
    await page.context().close();
  }
  console.log(`first 24 thumbnails after navigation: ${times.join(', ')}`);
});
