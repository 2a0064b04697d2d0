// The browser journey with the real SAM 3 architecture: `gen3d serve --models DIR`, where
// DIR comes from `make sam3-models` (transformers' Sam3TrackerModel; random weights in CI).
// The server embeds the photo with the traced encoder; the page downloads the full-size
// decoder and decodes in onnxruntime-web (wasm): the model directory's split decoder
// (`prepare` once per photo, `click` per prompt) where it has one, else the one-graph
// file the server's `POST …/masks` runs (with tract). For clicks and for a box, the mask
// the browser draws and submits must equal the server's mask for the same prompt
// (`data-prompt` on the stage), but for pixels whose logit is within float rounding of 0
// (at most 1 in 10 000).
//
//   node tests/e2e-sam3.mjs --gen3d PATH/TO/gen3d --models DIR [--out DIR]
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { args, clickPhoto, dragBox, launch, server, signUp, uploadPhoto } from './harness.mjs';
import { TRUCK } from './journey.mjs';

const opts = args({ out: join(process.cwd(), 'test-results', 'sam3') });
if (!opts.models) throw new Error('pass --models DIR (a model directory from `make sam3-models`)');
mkdirSync(opts.out, { recursive: true });
const manifest = JSON.parse(readFileSync(join(opts.models, 'manifest.json'), 'utf8'));
// What the page must download: file name as served -> bytes in the model directory.
const split = manifest.decoder.split;
const expected = split
  ? { 'decoder.prepare.onnx': statSync(join(opts.models, split.prepare)).size, 'decoder.click.onnx': statSync(join(opts.models, split.click)).size }
  : { 'decoder.onnx': statSync(join(opts.models, manifest.decoder.file)).size };

/** In the page: the object's submitted mask against the server's mask for `prompt`;
 * counts of pixels set in each and of pixels that differ. */
function compareMasks(page, session, object, prompt) {
  return page.evaluate(
    async ({ session, object, prompt }) => {
      const auth = { Authorization: `Bearer ${localStorage.getItem('gen3d.token')}` };
      const pixels = async (response) => {
        if (!response.ok) throw new Error(`${response.url}: ${response.status} ${await response.text()}`);
        const bitmap = await createImageBitmap(await response.blob());
        const c = new OffscreenCanvas(bitmap.width, bitmap.height);
        const g = c.getContext('2d');
        g.drawImage(bitmap, 0, 0);
        return g.getImageData(0, 0, c.width, c.height).data;
      };
      const submitted = await pixels(await fetch(`/v1/sessions/${session}/objects/${object}/files/mask.png`, { headers: auth }));
      const server = await pixels(
        await fetch(`/v1/sessions/${session}/masks`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: prompt }),
      );
      if (submitted.length !== server.length) throw new Error(`mask sizes differ: ${submitted.length} vs ${server.length}`);
      let browser = 0, served = 0, differ = 0;
      for (let i = 0; i < submitted.length; i += 4) {
        const a = submitted[i] > 127, b = server[i] > 127;
        browser += a;
        served += b;
        differ += a !== b;
      }
      return { browser, served, differ, total: submitted.length / 4 };
    },
    { session, object, prompt },
  );
}

async function confirmAndCompare(page, shot, name, count) {
  const prompt = await page.getByTestId('stage').getAttribute('data-prompt');
  await shot(`sam3-${name}`);
  await page.getByTestId('confirm').click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=object-card]').length === n, count);
  const object = await page.getByTestId('object-card').nth(count - 1).getAttribute('data-id');
  const session = /#\/sessions\/([^/]+)/.exec(page.url())[1];
  const r = await compareMasks(page, session, object, prompt);
  console.log(`  ${name}: prompt ${prompt}; browser ${r.browser} px, server ${r.served} px, ${r.differ} of ${r.total} differ`);
  assert.ok(r.browser > 0 && r.browser < r.total, `${name}: the browser's mask is neither empty nor everything`);
  // Two runtimes (onnxruntime-web's wasm kernels, tract) round differently in the last
  // bits: a logit within that rounding of 0 may land on either side. Nothing more.
  assert.ok(r.differ <= r.total / 10_000, `${name}: the browser's mask equals the server's but for ${r.differ} pixels`);
}

const srv = await server({ gen3d: opts.gen3d, extra: ['--models', opts.models] });
const browser = await launch();
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const decoderResponses = [];
  page.on('response', (r) => /decoder(\.\w+)?\.onnx$/.test(r.url()) && decoderResponses.push(r));
  const shot = (name) => page.screenshot({ path: join(opts.out, `${name}.jpg`), type: 'jpeg', quality: 80, fullPage: true });
  try {
    await signUp(page, srv.url);
    await uploadPhoto(page, TRUCK.path, 600_000);
    const got = {};
    for (const r of decoderResponses) got[r.url().split('/').pop()] = (await r.request().sizes()).responseBodySize;
    assert.deepEqual(got, expected, "the page downloads the model directory's decoder files, and only those");

    await clickPhoto(page, ...TRUCK.click, TRUCK);
    await clickPhoto(page, 200, 150, { ...TRUCK, button: 'right' }); // an exclude point
    assert.equal(await page.locator('.marker.exclude').count(), 1);
    const info = await page.getByTestId('stage').evaluate(() => document.querySelector('.selector')?.innerText ?? '');
    console.log(`  ${/Mask in \d+ ms \(decoder \d+ ms\)/.exec(info)?.[0] ?? 'no timing shown'}`);
    await confirmAndCompare(page, shot, 'clicks', 1);

    await dragBox(page, [1000, 250], [1500, 800], TRUCK);
    assert.equal(await page.getByTestId('box').count(), 1, 'the box is drawn');
    await confirmAndCompare(page, shot, 'box', 2);
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
    console.log('ok   SAM 3 architecture: photo, encoder, real decoder in the browser, masks equal to the server');
  } catch (e) {
    failed = true;
    console.log(`FAIL SAM 3 architecture journey\n  ${e.stack ?? e}`);
    await page.screenshot({ path: join(opts.out, 'failed.png'), fullPage: true }).catch(() => {});
    if (errors.length) console.log('  page errors:', errors);
    console.log(srv.log?.().slice(-4000));
  }
  await context.close();
} finally {
  await browser.close();
  await srv.stop();
}
process.exit(failed ? 1 : 0);
