// Low-resolution decoder logits -> masks: bilinear upsampling straight to the target
// size (half-pixel centres, edge clamped) and a threshold at 0, exactly as the server's
// `DecoderOutput::mask` does, so the PNG the app submits is the mask the user saw.

export const FRAME = 1008;
export const LOW = 288;

/** Candidate `c` of `masks` ([3,288,288] logits) at `w`×`h`: a Uint8Array of 0/1. */
export function upsample(masks, c, w, h) {
  const n = LOW;
  const plane = masks.subarray(c * n * n, (c + 1) * n * n);
  const out = new Uint8Array(w * h);
  const sx = n / w;
  const sy = n / h;
  const x0s = new Int32Array(w);
  const x1s = new Int32Array(w);
  const wxs = new Float32Array(w);
  for (let x = 0; x < w; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), n - 1);
    x0s[x] = Math.floor(fx);
    x1s[x] = Math.min(x0s[x] + 1, n - 1);
    wxs[x] = fx - x0s[x];
  }
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), n - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, n - 1);
    const wy = fy - y0;
    const r0 = y0 * n;
    const r1 = y1 * n;
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const a = x0s[x];
      const b = x1s[x];
      const wx = wxs[x];
      const top = plane[r0 + a] * (1 - wx) + plane[r0 + b] * wx;
      const bottom = plane[r1 + a] * (1 - wx) + plane[r1 + b] * wx;
      out[row + x] = top * (1 - wy) + bottom * wy > 0 ? 1 : 0;
    }
  }
  return out;
}

/** Paints `bits` (w×h) in colour `rgb` at `alpha` (0..255) into `image` (ImageData of
 * w×h); returns how many pixels are set. */
export function paint(image, bits, rgb, alpha) {
  const d = image.data;
  let set = 0;
  for (let i = 0; i < bits.length; i++) {
    if (!bits[i]) continue;
    set++;
    const o = i * 4;
    d[o] = rgb[0];
    d[o + 1] = rgb[1];
    d[o + 2] = rgb[2];
    d[o + 3] = alpha;
  }
  return set;
}

/** A binary PNG of the mask at the photo's size, selection in the alpha channel. */
export async function maskPng(masks, c, w, h) {
  const bits = upsample(masks, c, w, h);
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(w, h);
  paint(image, bits, [255, 255, 255], 255);
  ctx.putImageData(image, 0, 0);
  return canvas.convertToBlob({ type: 'image/png' });
}

/** The bounding box {x0,y0,x1,y1} of the set bits of a w-wide mask, or null. */
export function bounds(bits, w) {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  for (let i = 0; i < bits.length; i++) {
    if (!bits[i]) continue;
    const x = i % w;
    const y = (i / w) | 0;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}
