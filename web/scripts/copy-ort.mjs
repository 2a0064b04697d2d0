// Copies onnxruntime-web's wasm build into public/ort/ so the app serves it itself
// (no CDN at run time). The decoder worker imports /ort/ort.wasm.min.mjs at run time,
// outside the bundler, so ORT finds its .wasm and its thread workers beside it.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'node_modules/onnxruntime-web/dist');
const to = join(root, 'public/ort');
mkdirSync(to, { recursive: true });
for (const f of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) {
  copyFileSync(join(from, f), join(to, f));
}
console.log(`onnxruntime-web wasm files copied to ${to}`);
