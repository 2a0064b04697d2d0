// Reads `embeddings.g3e` (docs/api.md): version 1 is raw float16, version 2 stores the
// float16 values as two byte planes compressed with zlib, inflated here by the
// browser's own DecompressionStream. Returns float32 tensors for onnxruntime-web.

const F16 = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    table[h] = e === 0 ? s * 2 ** -14 * (m / 1024) : e === 31 ? (m ? NaN : s * Infinity) : s * 2 ** (e - 15) * (1 + m / 1024);
  }
  return table;
})();

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** `{name: {data: Float32Array, dims}}` from the file's bytes; throws on a bad file. */
export async function parseEmbeddings(buffer) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  if (bytes.length < 12 || String.fromCharCode(...bytes.subarray(0, 4)) !== 'G3DE') throw new Error('not an embeddings file');
  const version = view.getUint32(4, true);
  const headerLen = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLen)));
  if (header.dtype !== 'float16') throw new Error(`unsupported dtype ${header.dtype}`);
  const start = Math.ceil((12 + headerLen) / 4) * 4;
  const total = header.tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  let bits;
  if (version === 1) {
    bits = new Uint16Array(buffer.slice(start, start + total * 2));
  } else if (version === 2) {
    const planes = await inflate(bytes.subarray(start));
    if (planes.length !== total * 2) throw new Error('embeddings data is truncated');
    bits = new Uint16Array(total);
    for (let i = 0; i < total; i++) bits[i] = planes[i] | (planes[total + i] << 8);
  } else {
    throw new Error(`unsupported embeddings version ${version}`);
  }
  if (bits.length < total) throw new Error('embeddings data is truncated');
  const tensors = {};
  for (const t of header.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = F16[bits[t.offset + i]];
    tensors[t.name] = { data, dims: t.shape };
  }
  return tensors;
}
