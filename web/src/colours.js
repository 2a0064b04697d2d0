// Object colours: each object's tint on the photo, its card's swatch and its mask are
// picked from a palette to stand out from the pixels under the object (a red tint on a
// red mug would vanish), preferring colours no earlier object has. Pure functions.

/** Object colours (sRGB). */
export const PALETTE = [
  [30, 144, 255],
  [255, 99, 71],
  [46, 204, 113],
  [255, 193, 7],
  [155, 89, 182],
  [0, 188, 212],
  [233, 30, 99],
  [139, 195, 74],
];

/** Mean colour of the `rgba` pixels (RGBA bytes) where `bits` (one byte a pixel, the
 * same size) is set; null when none is. Samples at most ~50 000 pixels. */
export function meanUnder(rgba, bits) {
  const step = Math.max(1, Math.floor(bits.length / 50_000));
  let r = 0;
  let g = 0;
  let b = 0;
  let n = 0;
  for (let i = 0; i < bits.length; i += step) {
    if (!bits[i]) continue;
    r += rgba[i * 4];
    g += rgba[i * 4 + 1];
    b += rgba[i * 4 + 2];
    n++;
  }
  return n ? [r / n, g / n, b / n] : null;
}

/** Perceptual distance between two sRGB colours ("redmean": weights by the red level). */
export function distance([r1, g1, b1], [r2, g2, b2]) {
  const rm = (r1 + r2) / 2;
  const dr = r1 - r2;
  const dg = g1 - g2;
  const db = b1 - b2;
  return Math.sqrt((2 + rm / 256) * dr * dr + 4 * dg * dg + (2 + (255 - rm) / 256) * db * db);
}

/** A colour used by an earlier object counts as this much closer (so it is taken only
 * when every unused one is much closer to the object). */
const REUSE_PENALTY = 150;

/** The palette colour that stands out most from `mean` (the object's mean colour; null
 * when unknown), preferring those not in `used`. */
export function contrasting(mean, used = []) {
  const taken = (c) => used.some((u) => u[0] === c[0] && u[1] === c[1] && u[2] === c[2]);
  let best = PALETTE[0];
  let score = -Infinity;
  for (const c of PALETTE) {
    const s = (mean ? distance(c, mean) : 0) - (taken(c) ? REUSE_PENALTY : 0);
    if (s > score) [best, score] = [c, s];
  }
  return best;
}
