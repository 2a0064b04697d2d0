// Browser tests: Debian's Chromium, headless, driven through playwright-core against
// `gen3d serve`. The main journeys (journey.mjs, shared with the AWS profile's
// e2e-aws.mjs): upload truck.jpg, wait for the embeddings, click the truck, check the
// overlay covers the click, add an exclude click and see the mask change, confirm, wait
// for the object, check the viewer drew the splat and the mesh, download the GLB and the
// splat, follow the mail's link; a box and two objects. Then bad input: a non-image, a failed embeddings download, an
// expired sign-in; a forgotten password reset with the mailed code. With moto server
// (--moto URL or $GEN3D_MOTO_URL), also the Cognito sign-up, confirmation, sign-in and
// password reset, as in AWS. Screenshots of each step go to --out.
//
//   node tests/e2e.mjs --gen3d PATH/TO/gen3d [--out DIR] [--moto URL]   (or --url http://…)
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { PASSWORD, args, clickPhoto, cognitoCall, launch, server, signUp, uploadPhoto } from './harness.mjs';
import { TRUCK, boxAndTwoObjects, overlayAlpha, photoToMesh } from './journey.mjs';
import { viewerControls } from './viewer.mjs';
import { PALETTE, distance } from '../src/colours.js';

/** A new local account through the app's form. */
const localSignUp = async (page, url) => ({ email: await signUp(page, url), password: PASSWORD });

const opts = args({ out: join(process.cwd(), 'test-results'), moto: process.env.GEN3D_MOTO_URL });
mkdirSync(opts.out, { recursive: true });

const tests = [];
/** A test; `own` starts a server of its own instead of the shared one. */
const test = (name, fn, own = null) => tests.push({ name, fn, own });

/** The link in the mail the outbox holds for `object` (quoted-printable undone). */
async function mailLink(data, object) {
  const dir = join(data, 'outbox');
  for (let i = 0; i < 300; i++) {
    for (const f of (() => { try { return readdirSync(dir); } catch { return []; } })()) {
      const text = readFileSync(join(dir, f), 'latin1').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      const m = new RegExp(`https?://[^\\s"<]*#/sessions/[^\\s"<]*/objects/${object}`).exec(text);
      if (m) return m[0];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail for object ${object} in ${dir}`);
}

/** The code and link of the password reset mail the outbox holds for `email`. */
async function resetMail(data, email) {
  const dir = join(data, 'outbox');
  for (let i = 0; i < 100; i++) {
    for (const f of (() => { try { return readdirSync(dir); } catch { return []; } })()) {
      const text = readFileSync(join(dir, f), 'latin1').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      if (!text.includes(`To: ${email}`) || !text.includes('password reset')) continue;
      return { code: /Your code: (\d{6})/.exec(text)[1], link: /https?:\/\/[^\s"<]*#\/reset\?email=[^\s"<]*/.exec(text)[0] };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no password reset mail for ${email} in ${dir}`);
}

test('photo to downloaded mesh: click, exclude, reconstruct, view, download, the mail link', (page, url, shot, srv) =>
  photoToMesh(page, { url, shot, out: opts.out, signUp: localSignUp, mailLink: (object) => mailLink(srv.data, object) }),
);

test('a hover preview, a box, Escape and Ctrl+Z, the cut-out, marker removal, candidates, and two objects in their own colours', (page, url, shot) =>
  boxAndTwoObjects(page, { url, shot, signUp: localSignUp }),
);

test('the viewer draws Gaussian splats (against points), from the photo’s camera, with reset, auto-rotate, background, fullscreen; on a phone', (page, url, shot) =>
  viewerControls(page, { url, shot, out: opts.out, signUp: localSignUp }),
);

test('a sample photo in one click; presets, time per stage, Generate again as a variant, and why a mesh is open or small', async (page, url, shot) => {
  await signUp(page, url);
  // A first visit: the samples are on the upload card; one click starts with the truck.
  assert.equal(await page.getByTestId('samples').locator('img').count(), 3, 'three sample photos are offered');
  await page.getByTestId('sample-truck').click();
  await page.locator('[data-testid=workspace][data-state=ready]').waitFor({ timeout: 180_000 });
  const image = await page.evaluate(async () => {
    const r = await fetch(`/v1/sessions/${location.hash.split('/')[2]}`, { headers: { Authorization: `Bearer ${localStorage.getItem('gen3d.token')}` } });
    return (await r.json()).image;
  });
  assert.deepEqual([image.width, image.height], [TRUCK.width, TRUCK.height], 'the sample uploaded is the truck photo');
  const api = (path) => page.evaluate(async (p) => (await fetch(p, { headers: { Authorization: `Bearer ${localStorage.getItem('gen3d.token')}` } })).json(), path);
  const session = page.url().split('/sessions/')[1];
  // Fast: fewer triangles, down-sampled first.
  await page.getByTestId('preset').selectOption('fast');
  assert.equal(await page.getByTestId('target-triangles').inputValue(), '10000');
  await clickPhoto(page, ...TRUCK.click, TRUCK);
  await page.getByTestId('confirm').click();
  const first = page.locator('[data-testid=object-card]').nth(0);
  await page.locator('[data-testid=object-card][data-state=done]').first().waitFor({ timeout: 300_000 });
  const id = await first.getAttribute('data-id');
  const view = await api(`/v1/sessions/${session}/objects/${id}`);
  assert.equal(view.options.target_triangles, 10000);
  assert.equal(view.options.max_points, 20000, 'the Fast preset down-samples');
  const times = await first.getByTestId('stage-time').allTextContents();
  assert.equal(times.length, 3, `a time for each stage: ${times}`);
  assert.ok(times.every((t) => /^ \d+ s$/.test(t)), `stage times: ${times}`);

  // Generate again: the same selection with a new seed, shown as a variant.
  await first.getByTestId('generate-again').click();
  const second = page.locator('[data-testid=object-card]').nth(1);
  await second.waitFor();
  assert.equal(await second.getByTestId('object-title').textContent(), 'Object 2 · again from Object 1');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=object-card][data-state=done]').length === 2, null, { timeout: 300_000 });
  const again = await api(`/v1/sessions/${session}/objects/${await second.getAttribute('data-id')}`);
  assert.equal(again.variant_of, id);
  assert.ok(again.seed > 0 && again.seed !== view.seed, `a new seed: ${again.seed}`);
  assert.equal(again.options.max_points, 20000, 'with the same options');
  assert.match(await second.getByTestId('object-seed').textContent(), new RegExp(`seed ${again.seed}`));

  // Ball pivoting with more triangles than it can make: the card says so, and why.
  await page.getByTestId('preset').selectOption('custom');
  await page.locator('details summary').click();
  await page.getByTestId('method').selectOption('ball_pivoting');
  await page.getByTestId('target-triangles').fill('200000');
  await clickPhoto(page, ...TRUCK.click, TRUCK);
  await page.getByTestId('confirm').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=object-card][data-state=done]').length === 3, null, { timeout: 300_000 });
  const third = page.locator('[data-testid=object-card]').nth(2);
  await assertText(third.getByTestId('object-note'), /triangles of the 200,000 asked: ball pivoting/);
  await shot('16-variants-and-notes');
});

test('a library: the example on the first screen, colours against the object, names, thumbnails, the scene of all objects; at phone size', async (page, url, shot) => {
  // Before signing in: what Gen3D makes, from a sample photo.
  await page.goto(url);
  const example = page.getByTestId('example');
  await example.locator('img.result').evaluate((img) => img.decode());
  assert.ok(await example.locator('img').evaluateAll((imgs) => imgs.every((i) => i.naturalWidth > 0)), 'the example photo and result load');
  await shot('18-first-visit');
  await signUp(page, url);
  await uploadPhoto(page, TRUCK.path);

  // The window is dark blue: its tint is the palette colour farthest from its pixels.
  await clickPhoto(page, ...TRUCK.click, TRUCK);
  const under = await page.evaluate(() => {
    const photo = document.querySelector('[data-testid=photo]');
    const overlay = document.querySelector('[data-testid=overlay]');
    const p = photo.getContext('2d').getImageData(0, 0, photo.width, photo.height).data;
    const o = overlay.getContext('2d').getImageData(0, 0, overlay.width, overlay.height).data;
    const sum = [0, 0, 0];
    let n = 0;
    for (let i = 0; i < o.length; i += 4) if (o[i + 3] >= 60) (sum[0] += p[i]), (sum[1] += p[i + 1]), (sum[2] += p[i + 2]), n++;
    return sum.map((v) => v / n);
  });
  const chosen = (await page.getByTestId('overlay').getAttribute('data-colour')).split(',').map(Number);
  const farthest = Math.max(...PALETTE.map((c) => distance(c, under)));
  assert.ok(distance(chosen, under) >= farthest - 1, `tint ${chosen} stands out from the window's ${under.map(Math.round)}`);
  assert.notDeepEqual(chosen, PALETTE[0], 'not the blue the palette starts with (a dark blue window)');
  await page.getByTestId('confirm').click();
  const card = page.locator('[data-testid=object-card]').first();
  await page.locator('[data-testid=object-card][data-state=done]').first().waitFor({ timeout: 300_000 });
  assert.equal(await card.getByTestId('object-swatch').getAttribute('data-colour'), chosen.join(','), 'the card keeps the tint the selection had');
  // The object's picture: the splat from the photo's camera.
  const thumb = card.getByTestId('object-thumb');
  await thumb.waitFor();
  assert.equal(await thumb.evaluate(async (img) => (await img.decode(), img.naturalWidth)), 256);

  // Names: the object and the photo, kept over a reload; downloads named after both.
  await card.getByTestId('rename-object').click();
  await page.getByTestId('rename-field').fill('Truck window');
  await page.getByTestId('rename-field').press('Enter');
  await assertText(card.getByTestId('object-title'), /^Truck window$/);
  await page.getByTestId('rename-photo').click();
  await page.getByTestId('rename-photo-field').fill('My truck');
  await page.getByTestId('rename-photo-field').press('Enter');
  await assertText(page.getByTestId('photo-title'), /^My truck$/);
  await page.reload();
  await page.locator('[data-testid=object-card][data-state=done]').first().waitFor({ timeout: 60_000 });
  assert.equal(await page.getByTestId('photo-title').textContent(), 'My truck');
  assert.equal(await card.getByTestId('object-title').textContent(), 'Truck window');
  const [mesh] = await Promise.all([page.waitForEvent('download'), card.getByTestId('download-mesh.glb').click()]);
  assert.equal(mesh.suggestedFilename(), 'gen3d-my-truck-truck-window-mesh.glb');

  // A second object, then every done object in one scene: one node each, named.
  await clickPhoto(page, 1250, 560, TRUCK);
  const second = (await page.getByTestId('overlay').getAttribute('data-colour'));
  assert.notEqual(second, chosen.join(','), 'a second object does not reuse the first one’s colour');
  await page.getByTestId('confirm').click();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=object-card]')].filter((c) => c.dataset.state === 'done').length === 2, null, { timeout: 300_000 });
  await page.getByTestId('view-scene').click();
  await page.locator('[data-testid=viewer][data-ready=true]').waitFor({ timeout: 120_000 });
  assert.equal(await page.getByTestId('viewer').getAttribute('data-nodes'), '2', 'the scene shows both objects');
  await shot('19-scene');
  const [scene] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-scene').click()]);
  assert.equal(scene.suggestedFilename(), 'gen3d-my-truck-scene.glb');
  const glb = readFileSync(await scene.path());
  const doc = JSON.parse(glb.subarray(20, 20 + glb.readUInt32LE(12)).toString('utf8'));
  assert.deepEqual(doc.scenes[doc.scene].nodes.map((n) => doc.nodes[n].name), ['Truck window', 'Object 2'], 'one node per object');
  assert.ok(doc.scenes[doc.scene].nodes.every((n) => doc.nodes[n].matrix?.length === 16), 'each placed by its pose');

  // My photos: the photo by its name, with its thumbnail.
  await page.goto(`${url}#/`);
  const row = page.locator('[data-testid=session-row]').first();
  await assertText(row.getByTestId('session-name'), /^My truck$/);
  await row.getByTestId('session-thumb').waitFor();
  assert.ok(await row.getByTestId('session-thumb').evaluate((img) => img.naturalWidth === 320));
  await shot('20-library');
  // At phone size, the library and the workspace with its pictures and scene bar fit.
  await page.setViewportSize({ width: 390, height: 844 });
  const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  assert.ok(await fits(), 'no sideways scrolling in My photos at 390 px');
  await row.getByTestId('session-name').click();
  await page.locator('[data-testid=object-card][data-state=done]').first().waitFor({ timeout: 60_000 });
  await page.getByTestId('object-thumb').first().waitFor();
  assert.ok(await fits(), 'no sideways scrolling in the workspace at 390 px');
});

test('on a phone: the photo while it is prepared, touch instructions, a tap, Reconstruct in reach, earlier objects hidden', async (page, url, shot) => {
  const phoneContext = await page.context().browser().newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
  const phone = await phoneContext.newPage();
  try {
    await signUp(phone, url);
    // The encoder made slow: for 8 s the session says `embedding`, as a cold GPU would.
    const holdUntil = Date.now() + 8000;
    await phone.route(/\/v1\/sessions\/[a-z0-9]+$/, async (route) => {
      const response = await route.fetch();
      const json = await response.json();
      // (`uploaded` too: under load the embedding step may not have taken the photo yet.)
      if (route.request().method() === 'GET' && Date.now() < holdUntil && ['uploaded', 'ready'].includes(json.state)) json.state = 'embedding';
      await route.fulfill({ response, json });
    });
    await phone.getByTestId('photo-input').setInputFiles(TRUCK.path);
    const preview = phone.getByTestId('photo-preview');
    await preview.waitFor({ timeout: 60_000 });
    await phone.waitForFunction(() => document.querySelector('[data-testid=photo-preview]')?.naturalWidth > 0);
    assert.equal(await preview.evaluate((img) => img.naturalWidth), TRUCK.width, 'the photo is shown while it is prepared');
    await phone.waitForFunction(() => /Analysing the photo/.test(document.querySelector('[data-testid=status]')?.textContent ?? ''), null, { timeout: 10_000 });
    await phone.screenshot({ path: join(opts.out, '17-phone-preparing.jpg'), type: 'jpeg', quality: 80 });
    await phone.locator('[data-testid=workspace][data-state=ready]').waitFor({ timeout: 180_000 });
    assert.match(await phone.getByTestId('status').textContent(), /^Tap the object you want/, 'touch instructions');
    // A tap selects; Reconstruct is on screen without scrolling.
    const stage = await phone.getByTestId('stage').boundingBox();
    const [cx, cy] = TRUCK.click;
    await phone.touchscreen.tap(stage.x + (cx / TRUCK.width) * stage.width, stage.y + (cy / TRUCK.height) * stage.height);
    await phone.waitForFunction(() => Number(document.querySelector('[data-testid=overlay]')?.dataset.pixels ?? 0) > 0, null, { timeout: 30_000 });
    const confirm = await phone.getByTestId('confirm').boundingBox();
    assert.ok(confirm.y >= 0 && confirm.y + confirm.height <= 844 && confirm.x >= 0 && confirm.x + confirm.width <= 390, `Reconstruct is in reach: ${JSON.stringify(confirm)}`);
    const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 390, `no sideways scrolling (${wide} px)`);
    await phone.screenshot({ path: join(opts.out, '17-phone-selected.jpg'), type: 'jpeg', quality: 80 });
    await phone.getByTestId('confirm').click();
    await phone.locator('[data-testid=object-card]').first().waitFor();
    // The submitted object's mask stays tinted on the photo; it can be hidden.
    const alpha = () => phone.evaluate(([x, y, w, h]) => {
      const c = document.querySelector('[data-testid=overlay]');
      return c.getContext('2d').getImageData(Math.floor((x / w) * c.width), Math.floor((y / h) * c.height), 1, 1).data[3];
    }, [cx, cy, TRUCK.width, TRUCK.height]);
    await phone.waitForTimeout(500);
    assert.ok((await alpha()) > 0, 'the earlier object is tinted');
    await phone.getByTestId('show-objects').uncheck();
    assert.equal(await alpha(), 0, 'hidden, the photo shows through');
    await phone.getByTestId('show-objects').check();
    assert.ok((await alpha()) > 0, 'and shown again');
  } finally {
    await phoneContext.close();
  }
});

test('the Guide page reads as text, at desktop and at phone size', async (page, url, shot) => {
  await signUp(page, url);
  for (const [width, height, name] of [[1400, 1000, 'desktop'], [390, 844, 'phone']]) {
    await page.setViewportSize({ width, height });
    await page.goto(`${url}/#/guide`);
    const guide = page.getByTestId('guide');
    await guide.waitFor();
    const text = await guide.innerText();
    assert.ok(!text.includes('[object'), `the guide shows elements as text at ${name}: ${text.slice(0, 200)}`);
    for (const heading of ['How to use Gen3D', '1. Add a photo', '2. Select an object', '3. Reconstruct', '4. View and download', 'All objects together', 'Names, pictures and colours']) {
      assert.ok(text.includes(heading), `the guide shows "${heading}" at ${name}`);
    }
    assert.equal(await guide.locator('h2').count(), 8, 'every section has its heading');
    assert.ok((await guide.locator('p').count()) >= 9, 'and its paragraph');
    // Nothing sideways on a phone: the page is no wider than the screen and the header's
    // last control (Sign out) is on it.
    const layout = await page.evaluate(() => {
      const out = document.querySelector('[data-testid=sign-out]').getBoundingClientRect();
      return { page: document.documentElement.scrollWidth, screen: window.innerWidth, signOutRight: out.right, signOutWidth: out.width };
    });
    assert.ok(layout.page <= layout.screen, `no sideways scrolling at ${name}: ${JSON.stringify(layout)}`);
    assert.ok(layout.signOutWidth > 0 && layout.signOutRight <= layout.screen, `Sign out is on screen at ${name}: ${JSON.stringify(layout)}`);
    await shot(`14-guide-${name}`);
  }
});

test('a failed object shows its stage and reason, that its mail could not reach the owner, and Try again resubmits it', async (page, url, shot) => {
  // An address under .invalid (RFC 2606), which the local mail outbox refuses as SES
  // refuses an unverified one.
  await signUp(page, url, 'mail.invalid');
  await uploadPhoto(page, TRUCK.path);
  // A 2×2-pixel selection: too few splats for a surface, so meshing fails.
  const tiny = grayPng(TRUCK.width, TRUCK.height, [[900, 600], [901, 600], [900, 601], [901, 601]]).toString('base64');
  const status = await page.evaluate(async (b64) => {
    const session = location.hash.split('/')[2];
    const body = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const r = await fetch(`/v1/sessions/${session}/objects`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${localStorage.getItem('gen3d.token')}`, 'Content-Type': 'image/png' },
      body,
    });
    return r.status;
  }, tiny);
  assert.equal(status, 201);
  await page.reload();
  const failed = page.locator('[data-testid=object-card][data-state=failed]');
  await failed.first().waitFor({ timeout: 120_000 });
  await assertText(failed.first().getByTestId('object-failure'), /Failed while meshing: .*too few points/);
  // The mail is tried after the object ended: the card says so once the page next reads it.
  const undeliverable = failed.first().getByTestId('object-mail-undeliverable');
  for (let i = 0; (await undeliverable.count()) === 0; i++) {
    assert.ok(i < 60, 'the card never said the mail was undeliverable');
    await page.waitForTimeout(500);
    await page.reload();
    await failed.first().waitFor({ timeout: 60_000 });
  }
  await assertText(undeliverable, /^We could not email you about this object: .*mail\.invalid: the domain \.invalid never takes mail/);
  await shot('14-failed-object');
  await failed.first().getByTestId('retry-object').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=object-card]').length === 2);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=object-card][data-state=failed]').length === 2, null, { timeout: 120_000 });
});

test('a non-image, a damaged JPEG and an oversized photo are refused before upload, with the reason', async (page, url, shot) => {
  await signUp(page, url);
  await page.getByTestId('photo-input').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await assertText(page.getByTestId('upload-error'), /not a photo/);
  await page.getByTestId('photo-input').setInputFiles({ name: 'broken.jpg', mimeType: 'image/jpeg', buffer: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]) });
  await assertText(page.getByTestId('upload-error'), /could not be decoded/);
  await page.getByTestId('photo-input').setInputFiles({ name: 'panorama.png', mimeType: 'image/png', buffer: grayPng(12_001, 2) });
  await assertText(page.getByTestId('upload-error'), /12001×2 pixels; the limit is 12000 pixels a side/);
  await page.getByTestId('photo-input').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await assertText(page.getByTestId('upload-error'), /not a photo/);
  await shot('09-not-a-photo');
  const sessions = await page.evaluate(() => fetch('/v1/sessions', { headers: { Authorization: `Bearer ${localStorage.getItem('gen3d.token')}` } }).then((r) => r.json()));
  assert.equal(sessions.sessions.length, 0, 'nothing was uploaded');
});

test('a failed embeddings download says so and retries', async (page, url, shot) => {
  await signUp(page, url);
  let failures = 1;
  await page.route('**/embeddings', (route) => (failures-- > 0 ? route.abort('connectionreset') : route.continue()));
  await page.getByTestId('photo-input').setInputFiles(TRUCK.path);
  await assertText(page.getByTestId('banner'), /Cannot reach the Gen3D server/, 180_000);
  await shot('10-network-error');
  await page.getByTestId('banner').getByRole('button', { name: 'Retry' }).click();
  await page.locator('[data-testid=workspace][data-state=ready]').waitFor({ timeout: 60_000 });
});

test('an expired sign-in returns to the sign-in page with a message', async (page, url, shot) => {
  await signUp(page, url);
  await page.evaluate(() => localStorage.setItem('gen3d.token', 'expired.token.value'));
  await page.reload();
  await assertText(page.getByTestId('banner'), /sign-in has expired/);
  await page.getByTestId('signin-submit').waitFor();
  await shot('11-expired');
});

test('a forgotten password: a code by mail, the mail’s link, a new password; the old password and sign-in end', async (page, url, shot, srv) => {
  const email = await signUp(page, url);
  const before = await page.evaluate(() => localStorage.getItem('gen3d.token'));
  await page.getByTestId('sign-out').click();
  await page.getByTestId('forgot').click();
  await page.getByTestId('email').fill(email);
  await page.getByTestId('signin-submit').click();
  await assertText(page.getByTestId('signin-note'), /we sent it a code/);
  await page.getByTestId('code').waitFor({ state: 'visible' });
  const { code, link } = await resetMail(srv.data, email);
  // The mail's link opens the new-password form with the address filled in.
  await page.goto('about:blank');
  await page.goto(link);
  await page.getByTestId('code').waitFor({ state: 'visible' });
  assert.equal(await page.getByTestId('email').inputValue(), email);
  await page.getByTestId('code').fill(code === '000000' ? '000001' : '000000');
  await page.getByTestId('password').fill('A-new-password-7');
  await page.getByTestId('signin-submit').click();
  await assertText(page.getByTestId('signin-error'), /code: wrong/);
  await page.getByTestId('code').fill(code);
  await shot('12-password-reset');
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('dropzone').waitFor();
  const old = await page.evaluate((t) => fetch('/v1/sessions', { headers: { Authorization: `Bearer ${t}` } }).then((r) => r.status), before);
  assert.equal(old, 401, 'the sign-in from before the reset has ended');
  await page.getByTestId('sign-out').click();
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill(PASSWORD);
  await page.getByTestId('signin-submit').click();
  await assertText(page.getByTestId('signin-error'), /wrong email or password/i);
  await page.getByTestId('password').fill('A-new-password-7');
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('dropzone').waitFor();
});

if (opts.moto) {
  test(
    'Cognito: sign up, confirm with the code, sign in, the API accepts the ID token; a forgotten password reset with the pool’s code',
    async (page, url, shot) => {
      const email = `cog-${Date.now()}@example.com`;
      await page.goto(url);
      await page.getByTestId('signin-toggle').click();
      await page.getByTestId('email').fill(email);
      await page.getByTestId('password').fill('Correct-horse-42');
      await page.getByTestId('signin-submit').click();
      await page.getByTestId('code').waitFor({ state: 'visible' });
      await assertText(page.getByTestId('signin-note'), /We sent a code/);
      await shot('13-cognito-confirm');
      await page.getByTestId('code').fill('123456');
      await page.getByTestId('signin-submit').click();
      await page.getByTestId('dropzone').waitFor();
      const token = await page.evaluate(() => localStorage.getItem('gen3d.token'));
      const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
      assert.equal(claims.token_use, 'id');
      assert.equal(claims.email, email);
      const local = await page.evaluate(() => fetch('/v1/auth/login', { method: 'POST', body: JSON.stringify({ email: 'a@example.com', password: 'whatever-123' }), headers: { 'Content-Type': 'application/json' } }).then((r) => r.status));
      assert.equal(local, 404, 'local accounts are off under Cognito');
      await uploadPhoto(page, TRUCK.path);
      await clickPhoto(page, ...TRUCK.click, TRUCK);
      assert.ok((await overlayAlpha(page, ...TRUCK.click)) > 0);
      // A wrong password names the problem.
      await page.getByTestId('sign-out').click();
      await page.getByTestId('email').fill(email);
      await page.getByTestId('password').fill('not-the-password');
      await page.getByTestId('signin-submit').click();
      await assertText(page.getByTestId('signin-error'), /Wrong email or password/);
      // Forgotten: ForgotPassword mails a code (moto takes any code but its own prefix),
      // ConfirmForgotPassword sets the new password, and the app signs in with it.
      await page.getByTestId('forgot').click();
      await page.getByTestId('signin-submit').click();
      await page.getByTestId('code').waitFor({ state: 'visible' });
      await page.getByTestId('code').fill('654321');
      await page.getByTestId('password').fill('Another-horse-43');
      await page.getByTestId('signin-submit').click();
      await page.getByTestId('dropzone').waitFor();
      await page.getByTestId('sign-out').click();
      await page.getByTestId('email').fill(email);
      await page.getByTestId('password').fill('Correct-horse-42');
      await page.getByTestId('signin-submit').click();
      await assertText(page.getByTestId('signin-error'), /Wrong email or password/);
    },
    async () => {
      const pool = await cognitoCall(opts.moto, 'CreateUserPool', { PoolName: `web-${Date.now()}`, UsernameAttributes: ['email'], AutoVerifiedAttributes: ['email'] });
      const client = await cognitoCall(opts.moto, 'CreateUserPoolClient', {
        UserPoolId: pool.UserPool.Id,
        ClientName: 'web',
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      });
      const extra = ['--cognito-user-pool-id', pool.UserPool.Id, '--cognito-client-id', client.UserPoolClient.ClientId, '--cognito-endpoint', opts.moto];
      return server({ ...opts, extra });
    },
  );
} else {
  console.log('GEN3D_MOTO_URL is not set: the Cognito sign-in test did NOT run (run `make test`)');
}

/** A valid greyscale PNG of w×h, black but for the white pixels `on` ([x, y] pairs). */
function grayPng(w, h, on = []) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const rows = Buffer.alloc((w + 1) * h); // filter byte 0 + black pixels
  for (const [x, y] of on) rows[y * (w + 1) + 1 + x] = 255;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

async function assertText(locator, re, timeout = 30_000) {
  await locator.filter({ hasText: re }).waitFor({ timeout });
}

const srv = await server(opts);
const browser = await launch();
let failed = 0;
// --only TEXT runs the tests whose name contains TEXT (while working on one).
const selected = tests.filter((t) => !opts.only || t.name.includes(opts.only));
try {
  for (const t of selected) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const shot = (name) => page.screenshot({ path: join(opts.out, `${name}.jpg`), type: 'jpeg', quality: 80, fullPage: true });
    const t0 = Date.now();
    let own = null;
    try {
      own = t.own ? await t.own() : null;
      await t.fn(page, (own ?? srv).url, shot, own ?? srv);
      assert.deepEqual(errors, [], 'no uncaught errors in the page');
      console.log(`ok   ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${t.name}\n  ${e.stack ?? e}`);
      await page.screenshot({ path: join(opts.out, `failed-${tests.indexOf(t)}.png`), fullPage: true }).catch(() => {});
      if (errors.length) console.log('  page errors:', errors);
    }
    await own?.stop();
    await context.close();
  }
} finally {
  await browser.close();
  if (failed && srv.log) writeFileSync(join(opts.out, 'server.log'), srv.log());
  await srv.stop();
}
console.log(`${selected.length - failed} passed, ${failed} failed; screenshots in ${opts.out}`);
process.exit(failed ? 1 : 0);
