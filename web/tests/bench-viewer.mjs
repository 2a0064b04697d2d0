// The 3D viewer in headless Chromium (issue 18):
// 1. frame time for a 100k-splat object, Gaussian splats (Spark) against the points-only
//    rendering of the same splats in the same run, while auto-rotating;
// 2. click → mask drawn with the viewer open on the same page (idle) against the viewer
//    closed, alternating rounds of clicks.
// The object's splat.ply is answered with a synthetic 100k-splat sphere (a real object of
// the built-in reconstructor has about 57k). Prints Markdown for docs/benchmarks.md.
//
//   node tests/bench-viewer.mjs --gen3d PATH/TO/gen3d [--clicks 20] [--seconds 20]
import { cpus } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, args, clickPhoto, launch, server, signUp, uploadPhoto } from './harness.mjs';

const opts = args({ clicks: '20', seconds: '20' });
const TRUCK = { path: join(FIXTURES, 'truck.jpg'), width: 1800, height: 1200, click: [500, 375] };
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const f1 = (x) => x.toFixed(1);

/** n splats on a unit sphere's surface, flat along the normal, coloured by position. */
function sphere(n) {
  const props = ['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2', 'opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3'];
  const header = `ply\nformat binary_little_endian 1.0\nelement vertex ${n}\n${props.map((p) => `property float ${p}`).join('\n')}\nend_header\n`;
  const body = new Float32Array(n * props.length);
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let i = 0; i < n; i++) {
    const z = 1 - (2 * (i + 0.5)) / n;
    const r = Math.sqrt(1 - z * z);
    const [x, y] = [Math.cos(golden * i) * r, Math.sin(golden * i) * r];
    // A rotation taking the splat's z axis (its thinnest) to the normal (x, y, z).
    const [ax, ay] = [-y, x];
    const half = Math.acos(Math.max(-1, Math.min(1, z))) / 2;
    const s = Math.sin(half) / (Math.hypot(ax, ay) || 1);
    body.set([x * 0.4, y * 0.4, z * 0.4, x, y, z, x * 1.5, y * 1.5, z * 1.5, 3, Math.log(0.004), Math.log(0.004), Math.log(0.0008), Math.cos(half), ax * s, ay * s, 0], i * props.length);
  }
  return Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from(body.buffer)]);
}

/** Waits until the viewer has drawn no frame for 1 s (Spark sorts asynchronously). */
async function settled(page) {
  const frames = () => page.evaluate(() => Number(document.querySelector('[data-testid=viewer-canvas]')?.dataset.frames ?? 0));
  let last = await frames();
  for (let i = 0; i < 120; i++) {
    await page.waitForTimeout(1000);
    const now = await frames();
    if (now === last) return;
    last = now;
  }
  throw new Error('the viewer kept drawing');
}

const srv = await server({ ...opts });
const browser = await launch();
try {
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  await signUp(page, srv.url);
  await uploadPhoto(page, TRUCK.path, 600_000);
  await clickPhoto(page, ...TRUCK.click, TRUCK);
  await page.getByTestId('confirm').click();
  const card = page.locator('[data-testid=object-card][data-state=done]').first();
  await card.waitFor({ timeout: 300_000 });
  const session = page.url().split('/sessions/')[1].split('/')[0];
  const object = await card.getAttribute('data-id');
  const splats = sphere(100_000);
  await page.route('**/splat.ply*', (route) => route.fulfill({ status: 200, body: splats, contentType: 'application/octet-stream' }));

  // 1. Frame time while auto-rotating (every frame a new view: Spark sorts again).
  const frameTimes = {};
  for (const mode of ['gaussian', 'points']) {
    await page.goto(`${srv.url}/${mode === 'points' ? '?splats=points' : ''}#/sessions/${session}/objects/${object}`);
    await page.locator('[data-testid=viewer][data-ready=true]').waitFor({ timeout: 120_000 });
    await page.getByTestId('show-splat').click();
    await page.waitForTimeout(2000);
    const box = page.getByTestId('viewer-canvas');
    const f0 = Number(await box.getAttribute('data-frames'));
    const t0 = Date.now();
    await page.getByTestId('view-rotate').click();
    await page.waitForTimeout(Number(opts.seconds) * 1000);
    await page.getByTestId('view-rotate').click();
    const frames = Number(await box.getAttribute('data-frames')) - f0;
    frameTimes[mode] = (Date.now() - t0) / Math.max(1, frames);
    console.log(`  ${mode}: ${frames} frames in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  // 2. Click → mask with the viewer open (idle) and closed, in alternating rounds.
  await page.unroute('**/splat.ply*');
  await page.goto(`${srv.url}/#/sessions/${session}`);
  await page.locator('[data-testid=workspace][data-state=ready]').waitFor({ timeout: 120_000 });
  let seed = 11;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const clicks = { open: [], closed: [] };
  const round = async (kind) => {
    const before = await page.evaluate(() => performance.getEntriesByName('gen3d:click').length);
    for (let i = 0; i < Number(opts.clicks); i++) {
      await page.keyboard.press('Escape');
      await clickPhoto(page, 50 + rand() * (TRUCK.width - 100), 50 + rand() * (TRUCK.height - 100), TRUCK);
    }
    const all = await page.evaluate(() => performance.getEntriesByName('gen3d:click').map((e) => e.duration));
    clicks[kind].push(...all.slice(before));
  };
  for (let r = 0; r < 3; r++) {
    await round('closed');
    await page.getByTestId('view-object').first().click();
    await page.locator('[data-testid=viewer][data-ready=true]').waitFor({ timeout: 120_000 });
    await settled(page);
    // The viewer scrolled itself into view: bring the photo back (the viewer stays open).
    await page.getByTestId('stage').scrollIntoViewIfNeeded();
    await settled(page);
    await round('open');
    await page.reload();
    await page.locator('[data-testid=workspace][data-state=ready]').waitFor({ timeout: 120_000 });
  }

  const threads = await page.evaluate(() => navigator.hardwareConcurrency);
  console.log(`\nmachine: ${cpus().length} cores (${cpus()[0].model}); Chromium headless (software WebGL, no GPU), ${threads} threads`);
  console.log('\n| viewer, 100 000 splats, auto-rotating | time per frame | frames per second |');
  console.log('|---|---|---|');
  for (const [mode, ms] of Object.entries(frameTimes)) console.log(`| ${mode === 'gaussian' ? 'Gaussian splats (Spark)' : 'points only (reference)'} | ${f1(ms)} ms | ${(1000 / ms).toFixed(1)} |`);
  console.log('\n| click → mask drawn | median | p95 | range | clicks |');
  console.log('|---|---|---|---|---|');
  for (const [kind, xs] of Object.entries(clicks)) {
    console.log(`| viewer ${kind} | ${f1(pct(xs, 50))} ms | ${f1(pct(xs, 95))} ms | ${f1(Math.min(...xs))}–${f1(Math.max(...xs))} ms | ${xs.length} |`);
  }
  const ratio = pct(clicks.open, 50) / pct(clicks.closed, 50);
  console.log(`\nviewer open / closed, median: ${ratio.toFixed(2)} (target: within 1.20)`);
} finally {
  await browser.close();
  await srv.stop();
}
