// The selector's rendering: the overlay (earlier objects' masks and the shown mask, tinted
// to stand out from the photo under it), the point and box markers, the candidate
// thumbnails and the cut-out. Each draws what it is given; the view owns the state.
import { meanUnder } from '../colours.js';
import { bounds, paint, upsample } from '../mask.js';
import { css, h } from '../ui.js';

/**
 * Clears `overlay` (size.w×size.h), draws the earlier objects' `layers`, then candidate
 * `c` of `shown` (decoder output) in a colour from `colourFor(mean colour under it)`,
 * strong for a chosen mask and faint for a hover preview. `pixels()` reads the photo at
 * that size. Returns the mask's bits and colour, or null when nothing is shown.
 */
export function drawOverlay(overlay, { size, layers, shown, c, strong, pixels, colourFor }) {
  const ctx = overlay.getContext('2d');
  ctx.clearRect(0, 0, size.w, size.h);
  for (const layer of layers) if (layer.image) ctx.drawImage(layer.image, 0, 0, size.w, size.h);
  if (!shown) {
    overlay.dataset.pixels = '0';
    return null;
  }
  const bits = upsample(shown.masks, c, size.w, size.h);
  const colour = colourFor(meanUnder(pixels(), bits));
  const image = ctx.createImageData(size.w, size.h);
  const set = paint(image, bits, colour, strong ? 130 : 70);
  const tmp = new OffscreenCanvas(size.w, size.h);
  tmp.getContext('2d').putImageData(image, 0, 0);
  ctx.drawImage(tmp, 0, 0);
  overlay.dataset.colour = colour.join(',');
  overlay.dataset.pixels = String(set);
  return { bits, colour };
}

// A marker's press must not start a click or a drag on the stage under it.
const stop = (e) => e.stopPropagation();
const pct = (v, of) => `${(v / of) * 100}%`;

/** The prompt's points and box over a width×height photo, in `colour`; clicking a point
 * calls `removePoint(i)`, the box's × calls `removeBox()`. */
export function drawMarkers(markers, { prompt, width, height, colour, removePoint, removeBox }) {
  const c = css(colour);
  const points = prompt.points.map((p, i) =>
    h('button.marker', {
      testid: 'marker',
      class: `marker ${p.label}`,
      title: `${p.label} point: click to remove`,
      style: `left:${pct(p.x, width)};top:${pct(p.y, height)};--c:${c}`,
      onpointerdown: stop,
      onclick: (e) => (stop(e), removePoint(i)),
    }),
  );
  const b = prompt.box;
  const box =
    b &&
    h(
      'div.box',
      { testid: 'box', style: `left:${pct(b.x0, width)};top:${pct(b.y0, height)};width:${pct(b.x1 - b.x0, width)};height:${pct(b.y1 - b.y0, height)};--c:${c}` },
      h('button.remove', { title: 'Remove the box', text: '×', onpointerdown: stop, onclick: (e) => (stop(e), removeBox()) }),
    );
  markers.replaceChildren(...points, ...(box ? [box] : []));
}

/** The candidate list for a width×height `photo`: `draw(container, out, k, pick)` shows
 * the three candidates of `out` over thumbnails (`k` highlighted; a click calls `pick(c)`),
 * or a hint when there is no output. The photo's thumbnail is read once. */
export function candidateList(photo, width, height) {
  const tw = 96;
  const th = Math.max(1, Math.round((96 * height) / width));
  let thumb = null;
  return function draw(container, out, k, pick) {
    if (!out) return container.replaceChildren(h('span.muted.small', { text: 'Click the photo to see up to three candidate masks.' }));
    container.replaceChildren(
      ...[0, 1, 2].map((c) => {
        const t = h('canvas', { width: tw, height: th });
        const g = t.getContext('2d');
        if (!thumb) {
          g.drawImage(photo, 0, 0, tw, th);
          thumb = g.getImageData(0, 0, tw, th);
        }
        const image = new ImageData(new Uint8ClampedArray(thumb.data), tw, th);
        const bits = upsample(out.masks, c, tw, th);
        for (let i = 0; i < bits.length; i++) if (!bits[i]) image.data[i * 4 + 3] = 60;
        g.putImageData(image, 0, 0);
        return h(`button.candidate${c === k ? '.on' : ''}`, { testid: 'candidate', onclick: () => pick(c) }, t, h('span', { text: `score ${out.iou[c].toFixed(2)}` }));
      }),
    );
  };
}

/** The object cut out of `photoCanvas` by `bits` (its size, `w` wide), over a checkerboard
 * in `cutout`: the checkerboard alone when `bits` is empty, nothing when null. */
export function drawCutout(cutout, photoCanvas, bits, w) {
  const g = cutout.getContext('2d');
  if (!bits) return g.clearRect(0, 0, cutout.width, cutout.height);
  const cell = 10;
  for (let y = 0; y < cutout.height; y += cell) for (let x = 0; x < cutout.width; x += cell) {
    g.fillStyle = ((x + y) / cell) % 2 ? '#ccc' : '#fff';
    g.fillRect(x, y, cell, cell);
  }
  const b = bounds(bits, w);
  if (!b) return;
  const bw = b.x1 - b.x0 + 1;
  const bh = b.y1 - b.y0 + 1;
  const crop = new OffscreenCanvas(bw, bh);
  const cg = crop.getContext('2d');
  cg.drawImage(photoCanvas, b.x0, b.y0, bw, bh, 0, 0, bw, bh);
  const image = cg.getImageData(0, 0, bw, bh);
  for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) if (!bits[(b.y0 + y) * w + b.x0 + x]) image.data[(y * bw + x) * 4 + 3] = 0;
  cg.putImageData(image, 0, 0);
  const s = Math.min(cutout.width / bw, cutout.height / bh);
  g.drawImage(crop, (cutout.width - bw * s) / 2, (cutout.height - bh * s) / 2, bw * s, bh * s);
}
