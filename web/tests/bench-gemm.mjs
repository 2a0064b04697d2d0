// Times web/kernels/bench-gemm.c's builds in Node.js (V8): one core, 5 warm-up and 30 timed runs each, the
// variants interleaved so a noisy machine slows all alike; checks each result against a
// plain JavaScript product first.
//   node tests/bench-gemm.mjs plain.wasm relaxed.wasm ...
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const [M, K, N] = [5184, 256, 32]; // 72x72 tokens, 256 channels, 32 outputs
const flop = 2 * M * K * N;
const kernels = [];
for (const file of process.argv.slice(2)) {
  const { instance } = await WebAssembly.instantiate(readFileSync(file));
  const { gemm, heap, memory } = instance.exports;
  const base = heap();
  const f32 = new Float32Array(memory.buffer);
  const [a, b, c] = [base / 4, base / 4 + M * K, base / 4 + M * K + K * N];
  let seed = 1;
  for (let i = 0; i < M * K + K * N; i++) f32[a + i] = ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  gemm(base, base + M * K * 4, base + (M * K + K * N) * 4, M, K, N);
  for (const [i, j] of [[0, 0], [7, 13], [M - 1, N - 1]]) {
    let want = 0;
    for (let k = 0; k < K; k++) want += f32[a + i * K + k] * f32[b + k * N + j];
    assert.ok(Math.abs(f32[c + i * N + j] - want) < 1e-3, `${file}: C[${i}][${j}] = ${f32[c + i * N + j]}, want ${want}`);
  }
  kernels.push({ name: basename(file), run: () => gemm(base, base + M * K * 4, base + (M * K + K * N) * 4, M, K, N), times: [] });
}
for (let r = 0; r < 5; r++) for (const k of kernels) k.run(); // V8 tiers the code up
for (let r = 0; r < 30; r++) {
  for (const k of kernels) {
    const t = performance.now();
    k.run();
    k.times.push(performance.now() - t);
  }
}
console.log(`${M}x${K} by ${K}x${N} f32 (${(flop / 1e9).toFixed(3)} GFLOP), node ${process.version}, one core, 30 runs:`);
for (const k of kernels) {
  const t = k.times.sort((x, y) => x - y);
  const gf = (ms) => (flop / ms / 1e6).toFixed(1);
  console.log(`  ${k.name}: median ${t[15].toFixed(2)} ms (${gf(t[15])} GFLOP/s), range ${t[0].toFixed(2)}–${t[29].toFixed(2)} ms`);
}
