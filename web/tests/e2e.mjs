// Browser tests: Debian's Chromium, headless, driven through playwright-core against
// `gen3d serve`. The main journey: upload truck.jpg, wait for the embeddings, click the
// truck, check the overlay covers the click, add an exclude click and see the mask
// change, confirm, wait for the object, check the viewer drew the splat and the mesh,
// download the GLB. Then bad input: a non-image, a failed embeddings download, an
// expired sign-in. With moto server (--moto URL or $GEN3D_MOTO_URL), also the Cognito
// sign-up, confirmation and sign-in, as in AWS. Screenshots of each step go to --out.
//
//   node tests/e2e.mjs --gen3d PATH/TO/gen3d [--out DIR] [--moto URL]   (or --url http://…)
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { FIXTURES, PASSWORD, args, clickPhoto, cognitoCall, launch, server, signUp, uploadPhoto } from './harness.mjs';

const opts = args({ out: join(process.cwd(), 'test-results'), moto: process.env.GEN3D_MOTO_URL });
mkdirSync(opts.out, { recursive: true });
const TRUCK = { path: join(FIXTURES, 'truck.jpg'), width: 1800, height: 1200, click: [500, 375] };

const tests = [];
/** A test; `own` starts a server of its own instead of the shared one. */
const test = (name, fn, own = null) => tests.push({ name, fn, own });

/** Pixels of the overlay canvas at photo pixel (x, y): the mask's alpha there. */
function overlayAlpha(page, x, y) {
  return page.evaluate(
    ([x, y, w, h]) => {
      const c = document.querySelector('[data-testid=overlay]');
      return c.getContext('2d').getImageData(Math.floor((x / w) * c.width), Math.floor((y / h) * c.height), 1, 1).data[3];
    },
    [x, y, TRUCK.width, TRUCK.height],
  );
}

const maskPixels = (page) => page.getByTestId('overlay').getAttribute('data-pixels').then(Number);

/** Share of the viewer canvas's pixels that differ from its background. */
function viewerCoverage(page) {
  return page.evaluate(() => {
    const src = document.querySelector('[data-testid=viewer-canvas] canvas');
    const c = Object.assign(document.createElement('canvas'), { width: src.width, height: src.height });
    const g = c.getContext('2d');
    g.drawImage(src, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    // The corner pixel is the clear colour: the object is framed in the middle.
    const [r, gr, b] = d;
    let drawn = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - gr) + Math.abs(d[i + 2] - b) > 24) drawn++;
    return drawn / (d.length / 4);
  });
}

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

test('photo to downloaded mesh: click, exclude, reconstruct, view, download, the mail link', async (page, url, shot, srv) => {
  const email = await signUp(page, url);
  await shot('01-signed-in');
  await uploadPhoto(page, TRUCK.path);
  const isolated = await page.evaluate(() => self.crossOriginIsolated);
  assert.equal(isolated, true, 'the page must be cross-origin isolated for wasm threads');
  await shot('02-ready');

  const [cx, cy] = TRUCK.click;
  await clickPhoto(page, cx, cy, TRUCK);
  assert.ok((await overlayAlpha(page, cx, cy)) > 0, 'the mask overlay covers the click point');
  const first = await maskPixels(page);
  assert.ok(first > 0, 'a mask is drawn');
  assert.equal(await page.getByTestId('marker').count(), 1);
  await page.getByTestId('candidate').nth(2).waitFor({ timeout: 5_000 }); // drawn a frame after the overlay
  assert.equal(await page.getByTestId('candidate').count(), 3, 'three candidate masks are offered');
  await shot('03-include-click');

  // An exclude click inside the selection, far from the include point.
  const far = await page.evaluate(([cx, cy, w, h]) => {
    const c = document.querySelector('[data-testid=overlay]');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let best = null;
    for (let y = 0; y < c.height; y += 4) for (let x = 0; x < c.width; x += 4) {
      if (!d[(y * c.width + x) * 4 + 3]) continue;
      const px = ((x + 0.5) / c.width) * w;
      const py = ((y + 0.5) / c.height) * h;
      const dist = Math.hypot(px - cx, py - cy);
      if (!best || dist > best.dist) best = { px, py, dist };
    }
    return best;
  }, [cx, cy, TRUCK.width, TRUCK.height]);
  assert.ok(far, 'the mask has pixels');
  await clickPhoto(page, far.px, far.py, { ...TRUCK, button: 'right' });
  const second = await maskPixels(page);
  assert.notEqual(second, first, 'the exclude click changes the mask');
  assert.equal(await page.locator('.marker.exclude').count(), 1);
  assert.ok((await overlayAlpha(page, cx, cy)) > 0, 'the include point stays selected');
  await shot('04-exclude-click');

  // Undo removes the exclude point and brings the first mask back; redo it by clicking.
  await page.getByTestId('undo').click();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=overlay]').dataset.pixels) === n, first);
  await clickPhoto(page, far.px, far.py, { ...TRUCK, button: 'right' });
  assert.equal(await maskPixels(page), second);

  await page.getByTestId('confirm').click();
  const card = page.getByTestId('object-card').first();
  await card.waitFor();
  await shot('05-submitted');
  await page.locator('[data-testid=object-card][data-state=done]').first().waitFor({ timeout: 300_000 });
  assert.match(await card.getByTestId('object-stats').textContent(), /triangles/);
  await shot('06-done');

  await card.getByTestId('view-object').click();
  await page.locator('[data-testid=viewer][data-ready=true]').waitFor({ timeout: 120_000 });
  await page.getByTestId('show-splat').click();
  await page.waitForTimeout(300);
  const splat = await viewerCoverage(page);
  await page.getByTestId('viewer').screenshot({ path: join(opts.out, '07-viewer-splat.jpg'), type: 'jpeg', quality: 85 });
  await page.getByTestId('show-mesh').click();
  await page.waitForTimeout(300);
  const mesh = await viewerCoverage(page);
  await page.getByTestId('viewer').screenshot({ path: join(opts.out, '08-viewer-mesh.jpg'), type: 'jpeg', quality: 85 });
  console.log(`  viewer coverage: splat ${(splat * 100).toFixed(1)} %, mesh ${(mesh * 100).toFixed(1)} %`);
  assert.ok(splat > 0.01, `the splat is drawn (${splat})`);
  assert.ok(mesh > 0.01, `the mesh is drawn (${mesh})`);

  const [download] = await Promise.all([page.waitForEvent('download'), card.getByTestId('download-mesh.glb').click()]);
  const saved = join(opts.out, 'object-1-mesh.glb');
  await download.saveAs(saved);
  const glb = readFileSync(saved);
  assert.equal(glb.subarray(0, 4).toString('latin1'), 'glTF', 'the download is a GLB');
  assert.ok(glb.length > 1000);

  // The results survive leaving the page: reload and find the object done.
  await page.reload();
  await page.locator('[data-testid=object-card][data-state=done]').first().waitFor({ timeout: 60_000 });

  // The mail's link, signed out: sign in, and land on the object, open in the viewer.
  const object = await card.getAttribute('data-id');
  const link = await mailLink(srv.data, object);
  await page.getByTestId('sign-out').click();
  await page.goto(link);
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill(PASSWORD);
  await page.getByTestId('signin-submit').click();
  await page.locator('[data-testid=viewer][data-ready=true]').waitFor({ timeout: 120_000 });
  assert.ok(page.url().endsWith(`/objects/${object}`), page.url());
  assert.ok(await page.locator(`[data-testid=object-card][data-id="${object}"]`).evaluate((e) => e.classList.contains('focus')));
});

test('a box, marker removal, candidates, and two objects in their own colours', async (page, url, shot) => {
  await signUp(page, url);
  await uploadPhoto(page, TRUCK.path);
  const stage = page.getByTestId('stage');
  const box = await stage.boundingBox();
  const at = (x, y) => [box.x + (x / TRUCK.width) * box.width, box.y + (y / TRUCK.height) * box.height];
  // Drag a box around the truck's cab.
  const before = Number((await stage.getAttribute('data-decoded')) ?? 0);
  await page.mouse.move(...at(1000, 250));
  await page.mouse.down();
  await page.mouse.move(...at(1300, 500), { steps: 5 });
  await page.mouse.move(...at(1500, 800), { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction((b) => Number(document.querySelector('[data-testid=stage]').dataset.decoded ?? 0) > b, before);
  assert.equal(await page.getByTestId('box').count(), 1, 'the box is drawn');
  assert.ok((await maskPixels(page)) > 0, 'a box alone selects');
  // Another candidate can be chosen.
  const first = await maskPixels(page);
  await page.getByTestId('candidate').nth(2).click();
  // The candidates are redrawn a frame after the overlay: wait for that frame.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=candidate]')[2]?.classList.contains('on'), null, { timeout: 5_000 });
  console.log(`  box: candidate masks ${first} → ${await maskPixels(page)} pixels`);
  await page.getByTestId('confirm').click();
  await page.getByTestId('object-card').first().waitFor();
  // A second object: a click, then its marker removed and placed again.
  await clickPhoto(page, 500, 375, TRUCK);
  assert.equal(await page.getByTestId('marker').count(), 1);
  await page.getByTestId('marker').first().click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=marker]').length === 0);
  assert.equal(await maskPixels(page), 0, 'removing the only point clears the mask');
  await clickPhoto(page, 500, 375, TRUCK);
  await page.getByTestId('confirm').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=object-card]').length === 2);
  const colours = await page.locator('[data-testid=object-card] .swatch').evaluateAll((els) => els.map((e) => e.style.background));
  assert.equal(new Set(colours).size, 2, `each object has its own colour: ${colours}`);
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=object-card]')].every((c) => c.dataset.state === 'done'), null, { timeout: 300_000 });
  await shot('12-two-objects');
});

test('a failed object shows its stage and reason, and Try again resubmits it', async (page, url, shot) => {
  await signUp(page, url);
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

if (opts.moto) {
  test(
    'Cognito: sign up, confirm with the code, sign in, and the API accepts the ID token',
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
try {
  for (const t of tests) {
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
console.log(`${tests.length - failed} passed, ${failed} failed; screenshots in ${opts.out}`);
process.exit(failed ? 1 : 0);
