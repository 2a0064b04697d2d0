// The 3D viewer as users see it (issue 18): real Gaussian splats against the points-only
// rendering of the same object (pixel statistics of the canvas), the first view from the
// photo's camera, reset view, auto-rotate, background and fullscreen, at desktop size and
// at 390×844.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { clickPhoto, uploadPhoto } from './harness.mjs';
import { TRUCK } from './journey.mjs';

/**
 * The viewer canvas, read back: `coverage` (share of pixels unlike the clear colour),
 * `gaps` (clear-colour pixels inside the drawn region's rows: a drawn pixel within 6 px on
 * both sides), and `grain` (mean colour step between neighbouring drawn pixels: dots on a
 * grid make it large, overlapping Gaussians blend), the drawn pixels' count and mean run
 * lengths across and down (the shape splats are drawn with), and a 32×20 thumbnail.
 */
export function canvasStats(page) {
  return page.evaluate(() => {
    const src = document.querySelector('[data-testid=viewer-canvas] canvas');
    const c = Object.assign(document.createElement('canvas'), { width: src.width, height: src.height });
    const g = c.getContext('2d');
    g.drawImage(src, 0, 0);
    const { width: w, height: h } = c;
    const d = g.getImageData(0, 0, w, h).data;
    const bg = [d[0], d[1], d[2]];
    const drawn = new Uint8Array(w * h);
    let count = 0;
    for (let p = 0; p < w * h; p++) {
      const i = p * 4;
      if (Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) > 24) {
        drawn[p] = 1;
        count++;
      }
    }
    let gaps = 0;
    let inside = 0;
    let step = 0;
    let steps = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 6; x < w - 6; x++) {
        const p = y * w + x;
        let left = false;
        let right = false;
        for (let k = 1; k <= 6; k++) {
          left ||= drawn[p - k] === 1;
          right ||= drawn[p + k] === 1;
        }
        if (left && right) {
          inside++;
          if (!drawn[p]) gaps++;
        }
        if (drawn[p] && drawn[p + 1]) {
          const i = p * 4;
          step += Math.abs(d[i] - d[i + 4]) + Math.abs(d[i + 1] - d[i + 5]) + Math.abs(d[i + 2] - d[i + 6]);
          steps++;
        }
      }
    }
    // Mean length of the drawn pixels' horizontal and vertical runs: the splats' shape.
    const meanRun = (outer, inner, at) => {
      let [total, n, run] = [0, 0, 0];
      for (let a = 0; a < outer; a++) {
        for (let b = 0; b <= inner; b++) {
          if (b < inner && at(a, b)) run++;
          else if (run) [total, n, run] = [total + run, n + 1, 0];
        }
      }
      return n ? total / n : 0;
    };
    const across = meanRun(h, w, (y, x) => drawn[y * w + x] === 1);
    const down = meanRun(w, h, (x, y) => drawn[y * w + x] === 1);
    const t = Object.assign(document.createElement('canvas'), { width: 32, height: 20 });
    t.getContext('2d').drawImage(src, 0, 0, 32, 20);
    const thumb = Array.from(t.getContext('2d').getImageData(0, 0, 32, 20).data);
    return { drawn: count, across, down, coverage: count / (w * h), gaps: inside ? gaps / inside : 1, grain: steps ? step / steps : 0, corner: bg, thumb };
  });
}

/**
 * A 3DGS splat PLY (17 float32 properties) of 5×5 red splats on the x-z plane (the
 * photographed side of SAM 3D Objects' frame), each 6 times longer along x than along z.
 */
export function stretchedSplats() {
  const props = ['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2', 'opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3'];
  const n = 25;
  const header = `ply\nformat binary_little_endian 1.0\nelement vertex ${n}\n${props.map((p) => `property float ${p}`).join('\n')}\nend_header\n`;
  const body = new Float32Array(n * props.length);
  for (let k = 0; k < n; k++) {
    const [i, j] = [k % 5, Math.floor(k / 5)];
    const red = (1 - 0.5) / 0.28209479177387814;
    body.set([(i - 2) * 0.2, 0, (j - 2) * 0.2, 0, 0, 0, red, -red, -red, 4, Math.log(0.03), Math.log(0.005), Math.log(0.005), 1, 0, 0, 0], k * props.length);
  }
  return Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from(body.buffer)]);
}

const fmt = (s) => `coverage ${(s.coverage * 100).toFixed(1)} %, gaps ${(s.gaps * 100).toFixed(1)} %, grain ${s.grain.toFixed(1)}`;
const thumbDiff = (a, b) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

/** Waits until the viewer has drawn no new frame for `quiet` ms (Spark sorts asynchronously). */
export async function settled(page, quiet = 600, timeout = 20_000) {
  const frames = () => page.locator('[data-testid=viewer-canvas]').getAttribute('data-frames').then(Number);
  const end = Date.now() + timeout;
  let last = await frames();
  for (;;) {
    await page.waitForTimeout(quiet);
    const now = await frames();
    if (now === last) return now;
    if (Date.now() > end) throw new Error(`the viewer kept drawing (${now} frames)`);
    last = now;
  }
}

async function openViewer(page, renderer) {
  await page.locator('[data-testid=viewer][data-ready=true]').waitFor({ timeout: 120_000 });
  const box = page.getByTestId('viewer-canvas');
  assert.equal(await box.getAttribute('data-renderer'), renderer, `the splat is drawn as ${renderer}`);
  await page.getByTestId('show-splat').click();
  await settled(page);
}

export async function viewerControls(page, { url, shot, out, signUp }) {
  await signUp(page, url);
  await uploadPhoto(page, TRUCK.path);
  await clickPhoto(page, ...TRUCK.click, TRUCK);
  await page.getByTestId('confirm').click();
  const card = page.locator('[data-testid=object-card][data-state=done]').first();
  await card.waitFor({ timeout: 300_000 });
  const [session, object] = [page.url().split('/sessions/')[1].split('/')[0], await card.getAttribute('data-id')];
  await card.getByTestId('view-object').click();
  await openViewer(page, 'gaussian');
  const box = page.getByTestId('viewer-canvas');
  assert.equal(await box.getAttribute('data-view'), 'photo', 'the first view is the photo’s camera (the object has a pose)');
  assert.match(await page.getByTestId('viewer-state').textContent(), /Gaussian splats · first view from the photo’s camera/);
  const gaussian = await canvasStats(page);
  await page.getByTestId('viewer').screenshot({ path: join(out, '15-viewer-gaussian.jpg'), type: 'jpeg', quality: 85 });

  // Reset view: a drag moves the view, Reset brings the first one back.
  const canvas = await box.locator('canvas').boundingBox();
  await page.mouse.move(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2);
  await page.mouse.down();
  await page.mouse.move(canvas.x + canvas.width / 2 + 150, canvas.y + canvas.height / 2 + 40, { steps: 10 });
  await page.mouse.up();
  await settled(page);
  const moved = await canvasStats(page);
  await page.getByTestId('view-reset').click();
  await settled(page);
  const reset = await canvasStats(page);
  const [away, back] = [thumbDiff(gaussian.thumb, moved.thumb), thumbDiff(gaussian.thumb, reset.thumb)];
  console.log(`  reset view: ${away.toFixed(1)} from the first view after a drag, ${back.toFixed(1)} after Reset`);
  assert.ok(away > 2 * back + 1, `a drag changes the view and Reset restores it (${away} vs ${back})`);

  // Auto-rotate draws frames continuously; turned off, the viewer sleeps again.
  const frames = () => box.getAttribute('data-frames').then(Number);
  await page.getByTestId('view-rotate').click();
  const f0 = await frames();
  const t0 = Date.now();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=viewer-canvas]').dataset.frames) >= n, f0 + 4, { timeout: 30_000 });
  const rotated = await canvasStats(page);
  console.log(`  auto-rotate: ${(await frames()) - f0} frames in ${Date.now() - t0} ms (software rendering)`);
  assert.ok(thumbDiff(rotated.thumb, reset.thumb) > 1, 'auto-rotate turns the object');
  await page.getByTestId('view-rotate').click();
  const still = await settled(page);
  await page.waitForTimeout(800);
  assert.equal(await frames(), still, 'with auto-rotate off the viewer sleeps');

  // Background.
  await page.getByTestId('view-background').selectOption('white');
  await settled(page);
  const white = await canvasStats(page);
  assert.ok(white.corner.every((v) => v > 230), `a white background: ${white.corner}`);
  await page.getByTestId('view-background').selectOption('grey');

  // Fullscreen fills the screen; Escape-equivalent leaves it.
  await page.getByTestId('view-fullscreen').click();
  await page.waitForFunction(() => document.fullscreenElement?.dataset.testid === 'viewer-canvas', null, { timeout: 5_000 });
  const size = await box.boundingBox();
  const screen = page.viewportSize();
  assert.ok(size.width >= screen.width - 2 && size.height >= screen.height - 2, `fullscreen: ${JSON.stringify(size)} of ${JSON.stringify(screen)}`);
  await page.evaluate(() => document.exitFullscreen());
  await page.waitForFunction(() => !document.fullscreenElement);

  // The same object as points only, for comparison.
  await page.goto(`${url}/?splats=points#/sessions/${session}/objects/${object}`);
  await openViewer(page, 'points');
  const points = await canvasStats(page);
  await page.getByTestId('viewer').screenshot({ path: join(out, '15-viewer-points.jpg'), type: 'jpeg', quality: 85 });
  console.log(`  Gaussian splats: ${fmt(gaussian)}\n  points only:     ${fmt(points)}`);
  assert.ok(gaussian.coverage > 0.01 && points.coverage > 0.01, 'both draw the object');

  // Anisotropy, shown on splats of a known shape: the object's splat.ply answered with 25
  // splats 6 times longer than tall. Gaussians draw them as wide ellipses; points as dots.
  const synthetic = stretchedSplats();
  await page.route('**/splat.ply*', (route) => route.fulfill({ status: 200, body: synthetic, contentType: 'application/octet-stream' }));
  const shapes = {};
  for (const mode of ['gaussian', 'points']) {
    await page.goto(`${url}/${mode === 'points' ? '?splats=points' : ''}#/sessions/${session}/objects/${object}`);
    await openViewer(page, mode);
    shapes[mode] = await canvasStats(page);
    await page.getByTestId('viewer').screenshot({ path: join(out, `15-viewer-stretched-${mode}.jpg`), type: 'jpeg', quality: 85 });
  }
  await page.unroute('**/splat.ply*');
  const [g, p] = [shapes.gaussian, shapes.points];
  console.log(`  25 stretched splats: Gaussian ${g.drawn} px, runs ${g.across.toFixed(1)} across × ${g.down.toFixed(1)} down; points ${p.drawn} px, ${p.across.toFixed(1)} × ${p.down.toFixed(1)}`);
  assert.ok(g.drawn > 5 * p.drawn, `Gaussians cover their extent, points only dots (${g.drawn} vs ${p.drawn} px)`);
  assert.ok(g.across > 3 * g.down, `each Gaussian is drawn wider than tall, as its scales say (${g.across} × ${g.down})`);
  assert.ok(p.across < 2 * p.down, `points are square whatever the scales (${p.across} × ${p.down})`);

  // A phone: the viewer and its controls fit the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${url}/#/sessions/${session}/objects/${object}`);
  await openViewer(page, 'gaussian');
  const layout = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    screen: window.innerWidth,
    tools: document.querySelector('.view-tools').getBoundingClientRect().right,
  }));
  assert.ok(layout.page <= layout.screen && layout.tools <= layout.screen, `the viewer fits a phone: ${JSON.stringify(layout)}`);
  await shot('15-viewer-phone');
}
