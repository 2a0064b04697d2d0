// The journeys both profiles run, step for step: the local one (`e2e.mjs` against
// `gen3d serve`) and the AWS one (`e2e-aws.mjs` through the edge stand-in derived from
// Pulumi.yaml), so the two cannot drift apart. What differs is passed in: how a new user
// signs up (`signUp(page, url)` → {email, password}) and where the mail is read
// (`mailLink(objectId)` → the link in the mail about that object).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, clickPhoto, dragBox, uploadPhoto } from './harness.mjs';

export const TRUCK = { path: join(FIXTURES, 'truck.jpg'), width: 1800, height: 1200, click: [500, 375] };

/** Pixels of the overlay canvas at photo pixel (x, y): the mask's alpha there. */
export function overlayAlpha(page, x, y) {
  return page.evaluate(
    ([x, y, w, h]) => {
      const c = document.querySelector('[data-testid=overlay]');
      return c.getContext('2d').getImageData(Math.floor((x / w) * c.width), Math.floor((y / h) * c.height), 1, 1).data[3];
    },
    [x, y, TRUCK.width, TRUCK.height],
  );
}

export const maskPixels = (page) => page.getByTestId('overlay').getAttribute('data-pixels').then(Number);

/** Share of the viewer canvas's pixels that differ from its background. */
export function viewerCoverage(page) {
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

/** Photo to downloaded mesh: click, exclude, undo, reconstruct, view splat and mesh,
 * download the GLB, reload, then the mail's link while signed out. */
export async function photoToMesh(page, { url, shot, out, signUp, mailLink }) {
  const { email, password } = await signUp(page, url);
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

  // On a laptop-sized window the new object's card starts below the fold: the page
  // moves to it.
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 1280, height: 640 });
  await page.getByTestId('confirm').click();
  const card = page.getByTestId('object-card').first();
  await card.waitFor();
  await page
    .waitForFunction(() => {
      const r = document.querySelector('[data-testid=object-card]').getBoundingClientRect();
      return r.top >= 0 && r.bottom <= window.innerHeight;
    }, null, { timeout: 5_000 })
    .catch(async () => assert.fail(`the new object's card is off screen: ${JSON.stringify(await card.boundingBox())}`));
  await page.setViewportSize(viewport);
  await shot('05-submitted');
  await page.locator('[data-testid=object-card][data-state=done]').first().waitFor({ timeout: 300_000 });
  assert.match(await card.getByTestId('object-stats').textContent(), /triangles/);
  await shot('06-done');

  await card.getByTestId('view-object').click();
  await page.locator('[data-testid=viewer][data-ready=true]').waitFor({ timeout: 120_000 });
  await page.getByTestId('show-splat').click();
  await page.waitForTimeout(300);
  const splat = await viewerCoverage(page);
  await page.getByTestId('viewer').screenshot({ path: join(out, '07-viewer-splat.jpg'), type: 'jpeg', quality: 85 });
  await page.getByTestId('show-mesh').click();
  await page.waitForTimeout(300);
  const mesh = await viewerCoverage(page);
  await page.getByTestId('viewer').screenshot({ path: join(out, '08-viewer-mesh.jpg'), type: 'jpeg', quality: 85 });
  console.log(`  viewer coverage: splat ${(splat * 100).toFixed(1)} %, mesh ${(mesh * 100).toFixed(1)} %`);
  assert.ok(splat > 0.01, `the splat is drawn (${splat})`);
  assert.ok(mesh > 0.01, `the mesh is drawn (${mesh})`);
  // The viewer sleeps when nothing moves (it used to draw every frame, and clicks on the
  // photo slowed tenfold), and wakes for a drag.
  const viewerBox = page.getByTestId('viewer');
  const frames = async () => Number((await viewerBox.locator('[data-frames]').first().getAttribute('data-frames')) ?? 0);
  await page.waitForTimeout(1500);
  const idle = await frames();
  await page.waitForTimeout(1000);
  assert.equal(await frames(), idle, 'no frames are drawn while the viewer is still');
  const canvas = await viewerBox.locator('canvas').boundingBox();
  await page.mouse.move(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2);
  await page.mouse.down();
  await page.mouse.move(canvas.x + canvas.width / 2 + 80, canvas.y + canvas.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.waitForTimeout(500);
  assert.ok((await frames()) > idle, 'a drag draws frames');

  const [download] = await Promise.all([page.waitForEvent('download'), card.getByTestId('download-mesh.glb').click()]);
  // Named for the photo's session and the object, so downloads from different photos do not collide.
  assert.match(download.suggestedFilename(), /^gen3d-[a-z0-9]{6}-object-1-mesh\.glb$/, download.suggestedFilename());
  const saved = join(out, 'object-1-mesh.glb');
  await download.saveAs(saved);
  const glb = readFileSync(saved);
  assert.equal(glb.subarray(0, 4).toString('latin1'), 'glTF', 'the download is a GLB');
  assert.ok(glb.length > 1000);
  const [splatDownload] = await Promise.all([page.waitForEvent('download'), card.getByTestId('download-splat.ply').click()]);
  const splatPath = join(out, 'object-1-splat.ply');
  await splatDownload.saveAs(splatPath);
  assert.equal(readFileSync(splatPath).subarray(0, 4).toString('latin1'), 'ply\n', 'the splat download is a PLY');

  // The results survive leaving the page: reload and find the object done.
  await page.reload();
  await page.locator('[data-testid=object-card][data-state=done]').first().waitFor({ timeout: 60_000 });

  // The mail's link, signed out: sign in, and land on the object, open in the viewer.
  const object = await card.getAttribute('data-id');
  const link = await mailLink(object);
  await page.getByTestId('sign-out').click();
  await page.goto(link);
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('signin-submit').click();
  await page.locator('[data-testid=viewer][data-ready=true]').waitFor({ timeout: 120_000 });
  assert.ok(page.url().endsWith(`/objects/${object}`), page.url());
  assert.ok(await page.locator(`[data-testid=object-card][data-id="${object}"]`).evaluate((e) => e.classList.contains('focus')));
}

/** The hover preview, a box, Escape and Ctrl+Z, the cut-out, candidates, marker removal,
 * and two objects in their own colours. */
export async function boxAndTwoObjects(page, { url, shot, signUp }) {
  await signUp(page, url);
  await uploadPhoto(page, TRUCK.path);
  // Before any click, the mouse over the photo previews what a click would select; off
  // the photo, the preview goes.
  const stage = await page.getByTestId('stage').boundingBox();
  await page.mouse.move(stage.x + (500 / TRUCK.width) * stage.width, stage.y + (375 / TRUCK.height) * stage.height);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=overlay]').dataset.pixels) > 0, null, { timeout: 10_000 });
  assert.equal(await page.getByTestId('marker').count(), 0, 'a preview places no point');
  assert.equal(await page.getByTestId('confirm').isDisabled(), true, 'a preview cannot be submitted');
  await page.mouse.move(stage.x + stage.width / 2, stage.y + stage.height + 40);
  await page.waitForFunction(() => document.querySelector('[data-testid=overlay]').dataset.pixels === '0', null, { timeout: 5_000 });
  // Drag a box around the truck's cab.
  await dragBox(page, [1000, 250], [1500, 800], TRUCK);
  assert.equal(await page.getByTestId('box').count(), 1, 'the box is drawn');
  const boxed = await maskPixels(page);
  assert.ok(boxed > 0, 'a box alone selects');
  // Escape clears the selection; Ctrl+Z (⌘+Z) brings it back.
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => document.querySelector('[data-testid=overlay]').dataset.pixels === '0' && !document.querySelector('[data-testid=box]'));
  await page.keyboard.press('ControlOrMeta+z');
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=overlay]').dataset.pixels) === n && document.querySelector('[data-testid=box]'), boxed);
  // The cut-out shows the selected pixels over its checkerboard (drawn a frame later).
  await page.waitForFunction(() => {
    const c = document.querySelector('[data-testid=cutout]');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let object = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] && !((d[i] === 204 || d[i] === 255) && d[i] === d[i + 1] && d[i] === d[i + 2])) object++;
    return object > 1000;
  }, null, { timeout: 5_000 });
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

  // Delete the first object: its card goes, the other stays and still downloads; then the
  // photo from "My photos": its row goes, and a reload does not bring it back.
  const session = new URL(page.url()).hash.split('/')[2];
  page.once('dialog', (d) => d.accept());
  await page.getByTestId('object-card').first().getByTestId('delete-object').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=object-card]').length === 1);
  assert.equal(await page.getByTestId('object-card').first().getByTestId('download-mesh.glb').count(), 1, 'the other object keeps its downloads');
  await page.goto(`${url}#/`);
  const row = page.locator(`[data-testid=session-row]:has(a[href="#/sessions/${session}"])`);
  await row.waitFor();
  page.once('dialog', (d) => d.accept());
  await row.getByTestId('delete-session').click();
  await row.waitFor({ state: 'detached' });
  await page.reload();
  await page.getByTestId('sessions').waitFor();
  await page.waitForFunction(() => !document.querySelector('[data-testid=sessions] li.muted')?.textContent.startsWith('Loading'));
  assert.equal(await page.locator(`a[href="#/sessions/${session}"]`).count(), 0, 'the deleted photo stays gone after a reload');
  console.log('  delete: an object, then its photo, gone after a reload');
}
