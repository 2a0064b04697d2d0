// The click decoder in a Web Worker: onnxruntime-web (wasm, threaded when the page is
// cross-origin isolated) runs the decoder on the photo's embeddings. Given the split
// decoder (`prepare` + `click`, container/models/torch/split_decoder.py), `prepare` runs
// once per photo and each prompt runs only `click` on its outputs; otherwise the one
// decoder graph runs per prompt.
// Messages: init {modelUrl, split, threads} -> ready; embeddings {buffer} -> embeddings-ready;
// decode {id, coords, labels} -> mask {id, masks, iou, ms}; any failure -> error.
import { parseEmbeddings } from './embeddings.js';

let ort;
let session;
let prepare = null;
let feeds = null;

async function load(url, what) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`the ${what} could not be loaded (${res.status})`);
  return ort.InferenceSession.create(new Uint8Array(await res.arrayBuffer()), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}

async function init({ modelUrl, split, threads }) {
  // Loaded at run time from the app's own /ort/ folder (copied from node_modules at
  // build), so ORT finds its .wasm and thread workers beside its script.
  ort = await import(/* @vite-ignore */ new URL('/ort/ort.wasm.min.mjs', self.location.origin).href);
  ort.env.wasm.wasmPaths = new URL('/ort/', self.location.origin).href;
  ort.env.wasm.numThreads = self.crossOriginIsolated ? threads : 1;
  if (split) [prepare, session] = await Promise.all([load(split.prepare, 'decoder (prepare)'), load(split.click, 'decoder (click)')]);
  else session = await load(modelUrl, 'decoder model');
  return { threads: ort.env.wasm.numThreads, isolated: self.crossOriginIsolated, split: Boolean(prepare), inputs: session.inputNames };
}

async function setEmbeddings({ buffer }) {
  const t0 = performance.now();
  const tensors = await parseEmbeddings(buffer);
  const embeddings = {};
  for (const [name, { data, dims }] of Object.entries(tensors)) embeddings[name] = new ort.Tensor('float32', data, dims);
  if (prepare) {
    // Once per photo; the click graph takes these outputs as they are.
    const t1 = performance.now();
    feeds = await prepare.run(embeddings);
    return { ms: performance.now() - t0, prepareMs: performance.now() - t1 };
  }
  feeds = embeddings;
  feeds.mask_input = new ort.Tensor('float32', new Float32Array(288 * 288), [1, 1, 288, 288]);
  feeds.has_mask_input = new ort.Tensor('float32', new Float32Array(1), [1]);
  return { ms: performance.now() - t0 };
}

async function decode({ coords, labels }) {
  if (!feeds) throw new Error('embeddings are not loaded yet');
  const n = labels.length;
  const t0 = performance.now();
  const out = await session.run({
    ...feeds,
    point_coords: new ort.Tensor('float32', Float32Array.from(coords), [1, n, 2]),
    point_labels: new ort.Tensor('float32', Float32Array.from(labels), [1, n]),
  });
  const masks = new Float32Array(out.masks.data);
  const iou = Array.from(out.iou_predictions.data);
  return { masks, iou, ms: performance.now() - t0, transfer: [masks.buffer] };
}

const handlers = { init, embeddings: setEmbeddings, decode };

self.onmessage = async ({ data }) => {
  try {
    const { transfer = [], ...result } = await handlers[data.type](data);
    self.postMessage({ ...result, id: data.id, ok: true }, transfer);
  } catch (e) {
    self.postMessage({ id: data.id, ok: false, error: e?.message ?? String(e) });
  }
};
