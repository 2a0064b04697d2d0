// Per-click decode latency in headless Chromium (onnxruntime-web, wasm), and the
// embeddings' download size and time, against the same clicks decoded by the server
// (POST /masks, tract) in the same run. Prints a Markdown table for docs/benchmarks.md.
//
// With --models DIR (a model directory from `make sam3-models`) the server runs that
// directory's models and the page its decoder: the split decoder (prepare once per
// photo, click per prompt) where the directory has one. --variant NAME makes the page
// run the one-graph decoder instead: `whole` (the fp32 file the server runs), or the
// manifest's smaller copy (fp16, int8); the server keeps fp32.
//
//   node tests/bench-decode.mjs --gen3d PATH/TO/gen3d [--clicks 60] [--models DIR [--variant whole|fp16|int8]]
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, args, clickPhoto, launch, server, signUp, uploadPhoto } from './harness.mjs';

const opts = args({ clicks: '60' });
const CLICKS = Number(opts.clicks);
const TRUCK = { path: join(FIXTURES, 'truck.jpg'), width: 1800, height: 1200 };

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const median = (xs) => pct(xs, 50);
const f1 = (x) => x.toFixed(1);

// A fixed pseudo-random sequence of click points inside the photo, the same every run.
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

const srv = await server({ ...opts, extra: opts.models ? ['--models', opts.models] : [] });
const browser = await launch();
let decoderName = 'built-in decoder';
try {
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  if (opts.models) {
    const manifest = JSON.parse(readFileSync(join(opts.models, 'manifest.json'), 'utf8'));
    decoderName = manifest.decoder.split ? `SAM 3 decoder, split (${manifest.decoder.split.prepare} + ${manifest.decoder.split.click})` : `SAM 3 decoder (${manifest.decoder.file})`;
    if (opts.variant) {
      // The one-graph decoder: the page is told of no split.
      await page.route('**/config.json', async (route) => {
        const json = await (await route.fetch()).json();
        delete json.decoderSplit;
        await route.fulfill({ json });
      });
      decoderName = `SAM 3 decoder, one graph (${manifest.decoder.file})`;
    }
    if (opts.variant && opts.variant !== 'whole') {
      const file = manifest.decoder.variants?.[opts.variant];
      if (!file) throw new Error(`--variant ${opts.variant}: the manifest names ${Object.keys(manifest.decoder.variants ?? {})}`);
      const body = readFileSync(join(opts.models, file));
      await page.route('**/decoder.onnx', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body }));
      decoderName = `SAM 3 decoder, ${opts.variant} (${file})`;
    }
  }
  await signUp(page, srv.url);
  await uploadPhoto(page, TRUCK.path, 600_000);
  const net = await page.evaluate(() => {
    const [dl] = performance.getEntriesByName('gen3d:embeddings-download');
    const [ready] = performance.getEntriesByName('gen3d:embeddings-ready');
    return { bytes: dl.detail.bytes, download: dl.duration, ready: ready.duration };
  });
  const clicks = [];
  for (let i = 0; i < CLICKS + 5; i++) {
    if (i % 3 === 0) await page.keyboard.press('Escape');
    const x = 50 + rand() * (TRUCK.width - 100);
    const y = 50 + rand() * (TRUCK.height - 100);
    clicks.push([x, y]);
    await clickPhoto(page, x, y, { ...TRUCK, button: i % 3 === 2 ? 'right' : 'left' });
  }
  const entries = await page.evaluate(() => performance.getEntriesByName('gen3d:click').map((e) => ({ total: e.duration, decoder: e.detail.decoder_ms })));
  // The first clicks warm the wasm code up; they are reported apart.
  const warm = entries.slice(5);
  // The reference: the same single clicks decoded by the server (tract), over HTTP.
  const session = page.url().split('/').pop();
  const server_ms = await page.evaluate(
    async ({ session, clicks }) => {
      const token = localStorage.getItem('gen3d.token');
      const out = [];
      for (const [x, y] of clicks) {
        const t0 = performance.now();
        const r = await fetch(`/v1/sessions/${session}/masks`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ points: [{ x, y, label: 'include' }] }),
        });
        await r.arrayBuffer();
        out.push(performance.now() - t0);
      }
      return out;
    },
    { session, clicks: clicks.slice(5) },
  );
  const threads = await page.evaluate(() => navigator.hardwareConcurrency);
  console.log(`machine: ${cpus().length} cores (${cpus()[0].model}); Chromium headless, wasm, ${threads} threads; ${warm.length} clicks on truck.jpg; ${decoderName}`);
  console.log('');
  console.log('| measure | median | p95 | range |');
  console.log('|---|---|---|---|');
  const row = (name, xs) => console.log(`| ${name} | ${f1(median(xs))} ms | ${f1(pct(xs, 95))} ms | ${f1(Math.min(...xs))}–${f1(Math.max(...xs))} ms |`);
  row('click → mask drawn (browser, onnxruntime-web)', warm.map((e) => e.total));
  row('of which decoder run in the worker', warm.map((e) => e.decoder));
  row('reference: server decode over HTTP (POST /masks, tract, PNG)', server_ms);
  console.log(`| first click (cold wasm) | ${f1(entries[0].total)} ms | | |`);
  console.log('');
  console.log(`embeddings: ${(net.bytes / 2 ** 20).toFixed(2)} MB on the wire (fp32 would be 20.25 MB); download ${f1(net.download)} ms, download + inflate + load (+ the split decoder's prepare) ${f1(net.ready)} ms (loopback)`);
} finally {
  await browser.close();
  await srv.stop();
}
