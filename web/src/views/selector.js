// Step 2: the selection stage. Left click includes, right click (or Exclude mode)
// excludes, a drag draws a box; markers remove their point when clicked; undo/reset;
// a hover preview before the first click; the three candidate masks; a cut-out preview.
// Every change re-runs the decoder in the worker and redraws the overlay.
import { meanUnder } from '../colours.js';
import { bounds, maskPng, paint, upsample } from '../mask.js';
import { boxBetween, labelFor, promptState } from '../prompt.js';
import { css, h } from '../ui.js';

/** A phone or tablet: touch instructions, no hover. */
export const TOUCH = typeof matchMedia === 'function' && matchMedia('(pointer: coarse)').matches;

/** Quality presets: mesh settings the API takes (docs/api.md). */
export const PRESETS = {
  fast: { label: 'Fast (10 000 triangles, down-sampled)', target_triangles: 10_000, method: 'poisson', max_points: 20_000 },
  balanced: { label: 'Balanced (50 000 triangles)', target_triangles: 50_000, method: 'poisson' },
  quality: { label: 'Quality (150 000 triangles, outliers removed)', target_triangles: 150_000, method: 'poisson', remove_outliers: true },
};

const DRAG_PX = 6;

export function selector({ photo, width, height, decoder, colourFor, onSubmit, layers }) {
  const photoCanvas = h('canvas.photo', { testid: 'photo' });
  const overlay = h('canvas.overlay', { testid: 'overlay' });
  const markers = h('div.markers');
  const rubber = h('div.rubber', { hidden: true });
  const stage = h('div.stage', { testid: 'stage', style: `aspect-ratio: ${width} / ${height}` }, photoCanvas, overlay, markers, rubber);
  const modeInclude = h('button.toggle.on', { testid: 'mode-include', text: 'Include', title: 'Left click adds an include point' });
  const modeExclude = h('button.toggle', { testid: 'mode-exclude', text: 'Exclude', title: 'Clicks remove areas (right click always does)' });
  const undoBtn = h('button', { testid: 'undo', text: 'Undo', title: 'Ctrl+Z' });
  const resetBtn = h('button', { testid: 'reset', text: 'Reset', title: 'Esc' });
  const hover = h('input', { type: 'checkbox', checked: true, testid: 'hover-preview' });
  // The masks of objects already submitted, tinted in their colours: hide them to see the photo.
  const showObjects = h('input', { type: 'checkbox', checked: true, testid: 'show-objects', onchange: () => redraw() });
  const info = h('p.muted.small', { testid: 'decode-info' });
  const candidates = h('div.candidates', { testid: 'candidates' });
  const cutout = h('canvas.cutout', { testid: 'cutout', width: 240, height: 180 });
  const target = h('input', { type: 'number', min: '1000', max: '2000000', step: '1000', value: '50000', testid: 'target-triangles' });
  const method = h('select', { testid: 'method' }, h('option', { value: 'poisson', text: 'Poisson (watertight)' }), h('option', { value: 'ball_pivoting', text: 'Ball pivoting' }));
  const format = h('select', { testid: 'format' }, ['glb', 'obj', 'ply', 'stl'].map((f) => h('option', { value: f, text: f.toUpperCase() })));
  // Presets set the mesh options the API takes; "Custom" is whatever the fields say.
  const preset = h(
    'select',
    { testid: 'preset', title: 'How much detail, against how long it takes' },
    Object.entries(PRESETS).map(([k, p]) => h('option', { value: k, text: p.label, selected: k === 'balanced' })),
    h('option', { value: 'custom', text: 'Custom (Mesh options below)' }),
  );
  const applyPreset = () => {
    const p = PRESETS[preset.value];
    if (!p) return;
    target.value = String(p.target_triangles);
    method.value = p.method;
  };
  preset.onchange = applyPreset;
  const confirm = h('button.primary', { testid: 'confirm', text: 'Reconstruct this object', disabled: true });
  const submitError = h('p.error', { testid: 'submit-error', role: 'alert' });
  const panel = h(
    'aside.tools',
    {},
    h('div.row', {}, modeInclude, modeExclude, undoBtn, resetBtn),
    h('label.inline', {}, hover, TOUCH ? 'Preview (mouse only)' : 'Preview on hover'),
    h('label.inline', {}, showObjects, 'Show earlier objects'),
    info,
    h('h3', { text: 'Candidates' }),
    candidates,
    h('h3', { text: 'Cut-out' }),
    cutout,
    h('label', {}, 'Quality', preset),
    h('details', {}, h('summary', { text: 'Mesh options' }), h('label', {}, 'Target triangles', target), h('label', {}, 'Method', method), h('label', {}, 'Primary format', format)),
    confirm,
    submitError,
  );
  const element = h('section.selector.card', {}, stage, panel);

  for (const field of [target, method]) field.addEventListener('input', () => (preset.value = 'custom'));

  let mode = 'include';
  const prompt = promptState(); // the clicks and box (state apart from drawing and input)
  let out = null; // decoder output for the current prompt
  let chosen = null; // the user's candidate pick, null = best IoU
  let preview = null; // hover output
  let size = { w: 1, h: 1 };
  let photoPixels = null; // the photo at `size`, read back once per layout
  let colour = colourFor(null);
  let generation = 0;
  let extras = null; // the shown mask's bits, for the cut-out
  let extrasFrame = 0;
  let thumb = null; // the photo at candidate-thumbnail size

  function fit() {
    const r = stage.getBoundingClientRect();
    const scale = Math.min(window.devicePixelRatio || 1, 2);
    const w = Math.max(1, Math.min(width, Math.round(r.width * scale)));
    const hgt = Math.max(1, Math.round((w * height) / width));
    if (w === size.w && hgt === size.h) return;
    size = { w, h: hgt };
    for (const c of [photoCanvas, overlay]) Object.assign(c, { width: w, height: hgt });
    photoCanvas.getContext('2d', { willReadFrequently: true }).drawImage(photo, 0, 0, w, hgt);
    photoPixels = null;
    redraw();
  }

  const best = (o) => o.iou.indexOf(Math.max(...o.iou));
  const pick = () => (out ? (chosen ?? best(out)) : null);

  function redraw() {
    const ctx = overlay.getContext('2d');
    ctx.clearRect(0, 0, size.w, size.h);
    if (showObjects.checked) for (const layer of layers()) if (layer.image) ctx.drawImage(layer.image, 0, 0, size.w, size.h);
    const shown = out ?? preview;
    if (shown) {
      const bits = upsample(shown.masks, out ? pick() : best(shown), size.w, size.h);
      const image = ctx.createImageData(size.w, size.h);
      // The tint stands out from the pixels under the mask (see colours.js).
      photoPixels ??= photoCanvas.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, size.w, size.h).data;
      colour = colourFor(meanUnder(photoPixels, bits));
      overlay.dataset.colour = colour.join(',');
      const set = paint(image, bits, colour, out ? 130 : 70);
      const tmp = new OffscreenCanvas(size.w, size.h);
      tmp.getContext('2d').putImageData(image, 0, 0);
      ctx.drawImage(tmp, 0, 0);
      overlay.dataset.pixels = String(set);
      extras = out ? bits : null;
    } else {
      overlay.dataset.pixels = '0';
      extras = null;
    }
    drawMarkers();
    confirm.disabled = !out;
    // The candidates and the cut-out follow a frame later, off the click's critical path.
    cancelAnimationFrame(extrasFrame);
    extrasFrame = requestAnimationFrame(() => {
      drawCandidates();
      if (extras) drawCutout(extras);
      else cutout.getContext('2d').clearRect(0, 0, cutout.width, cutout.height);
    });
  }

  function drawMarkers() {
    const markerColour = css(colour);
    const boxStyle = (b) =>
      `left:${(b.x0 / width) * 100}%;top:${(b.y0 / height) * 100}%;width:${((b.x1 - b.x0) / width) * 100}%;height:${((b.y1 - b.y0) / height) * 100}%;--c:${markerColour}`;
    markers.replaceChildren(
      ...prompt.points.map((p, i) =>
        h('button.marker', {
          testid: 'marker',
          class: `marker ${p.label}`,
          title: `${p.label} point: click to remove`,
          style: `left:${(p.x / width) * 100}%;top:${(p.y / height) * 100}%;--c:${markerColour}`,
          onpointerdown: (e) => e.stopPropagation(),
          onclick: (e) => {
            e.stopPropagation();
            change(() => prompt.remove(i));
          },
        }),
      ),
      ...(prompt.box
        ? [
            h(
              'div.box',
              { testid: 'box', style: boxStyle(prompt.box) },
              h('button.remove', { title: 'Remove the box', text: '×', onpointerdown: (e) => e.stopPropagation(), onclick: (e) => (e.stopPropagation(), change(() => prompt.clearBox())) }),
            ),
          ]
        : []),
    );
  }

  function drawCandidates() {
    if (!out) return candidates.replaceChildren(h('span.muted.small', { text: 'Click the photo to see up to three candidate masks.' }));
    const k = pick();
    candidates.replaceChildren(
      ...[0, 1, 2].map((c) => {
        const t = h('canvas', { width: 96, height: Math.max(1, Math.round((96 * height) / width)) });
        const g = t.getContext('2d');
        if (!thumb) {
          g.drawImage(photo, 0, 0, t.width, t.height);
          thumb = g.getImageData(0, 0, t.width, t.height);
        }
        const image = new ImageData(new Uint8ClampedArray(thumb.data), t.width, t.height);
        const bits = upsample(out.masks, c, t.width, t.height);
        for (let i = 0; i < bits.length; i++) if (!bits[i]) image.data[i * 4 + 3] = 60;
        g.putImageData(image, 0, 0);
        return h(`button.candidate${c === k ? '.on' : ''}`, { testid: 'candidate', onclick: () => ((chosen = c), redraw()) }, t, h('span', { text: `score ${out.iou[c].toFixed(2)}` }));
      }),
    );
  }

  function drawCutout(bits) {
    const b = bounds(bits, size.w);
    const g = cutout.getContext('2d');
    const cell = 10;
    for (let y = 0; y < cutout.height; y += cell) for (let x = 0; x < cutout.width; x += cell) {
      g.fillStyle = ((x + y) / cell) % 2 ? '#ccc' : '#fff';
      g.fillRect(x, y, cell, cell);
    }
    if (!b) return;
    const bw = b.x1 - b.x0 + 1;
    const bh = b.y1 - b.y0 + 1;
    const crop = new OffscreenCanvas(bw, bh);
    const cg = crop.getContext('2d');
    cg.drawImage(photoCanvas, b.x0, b.y0, bw, bh, 0, 0, bw, bh);
    const image = cg.getImageData(0, 0, bw, bh);
    for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) if (!bits[(b.y0 + y) * size.w + b.x0 + x]) image.data[(y * bw + x) * 4 + 3] = 0;
    cg.putImageData(image, 0, 0);
    const s = Math.min(cutout.width / bw, cutout.height / bh);
    g.drawImage(crop, (cutout.width - bw * s) / 2, (cutout.height - bh * s) / 2, bw * s, bh * s);
  }

  async function decode() {
    const gen = ++generation;
    if (!prompt.decodable) {
      out = null;
      chosen = null;
      info.textContent = prompt.empty ? '' : 'Add an include point or a box to select something.';
      return redraw();
    }
    const t0 = performance.now();
    const r = await decoder.decode(prompt.points, prompt.box, width, height);
    if (!r || gen !== generation) return;
    out = r;
    preview = null;
    redraw();
    const total = performance.now() - t0;
    performance.measure('gen3d:click', { start: t0, end: performance.now(), detail: { decoder_ms: r.ms } });
    info.textContent = `Mask in ${Math.round(total)} ms (decoder ${Math.round(r.ms)} ms)`;
    // The prompt this mask answers, in photo pixels (the API's `POST …/masks` body).
    stage.dataset.prompt = JSON.stringify(prompt.json());
    stage.dataset.decoded = String(gen);
  }

  function change(mutate) {
    mutate();
    chosen = null;
    decode().catch(fail);
  }

  const fail = (err) => (info.textContent = `The decoder failed: ${err.message}`);

  function toPhoto(e) {
    const r = stage.getBoundingClientRect();
    return {
      x: Math.min(width - 0.5, Math.max(0, ((e.clientX - r.left) / r.width) * width)),
      y: Math.min(height - 0.5, Math.max(0, ((e.clientY - r.top) / r.height) * height)),
      cx: e.clientX,
      cy: e.clientY,
    };
  }

  let down = null;
  stage.addEventListener('contextmenu', (e) => e.preventDefault());
  stage.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 && e.button !== 2) return;
    down = { ...toPhoto(e), button: e.button, dragging: false };
    stage.setPointerCapture(e.pointerId);
  });
  stage.addEventListener('pointermove', (e) => {
    const p = toPhoto(e);
    if (down) {
      if (!down.dragging && Math.hypot(p.cx - down.cx, p.cy - down.cy) > DRAG_PX) down.dragging = true;
      if (down.dragging) {
        const r = stage.getBoundingClientRect();
        Object.assign(rubber.style, {
          left: `${Math.min(p.cx, down.cx) - r.left}px`,
          top: `${Math.min(p.cy, down.cy) - r.top}px`,
          width: `${Math.abs(p.cx - down.cx)}px`,
          height: `${Math.abs(p.cy - down.cy)}px`,
        });
        rubber.hidden = false;
      }
      return;
    }
    if (hover.checked && prompt.empty) hoverDecode(p);
  });
  stage.addEventListener('pointerleave', () => {
    if (preview && !out) {
      preview = null;
      redraw();
    }
  });
  stage.addEventListener('pointerup', (e) => {
    if (!down) return;
    const p = toPhoto(e);
    const d = down;
    down = null;
    rubber.hidden = true;
    if (d.dragging) {
      change(() => prompt.setBox(boxBetween(d, p)));
    } else {
      change(() => prompt.add(d.x, d.y, labelFor(d.button, mode)));
    }
  });

  let hovering = false;
  async function hoverDecode(p) {
    if (hovering) return;
    hovering = true;
    try {
      const gen = generation;
      const r = await decoder.decode([{ x: p.x, y: p.y, label: 'include' }], null, width, height);
      if (r && gen === generation && prompt.empty) {
        preview = r;
        redraw();
      }
    } catch {
      /* a hover preview is best effort */
    } finally {
      hovering = false;
    }
  }

  const setMode = (m) => {
    mode = m;
    modeInclude.classList.toggle('on', m === 'include');
    modeExclude.classList.toggle('on', m === 'exclude');
  };
  modeInclude.onclick = () => setMode('include');
  modeExclude.onclick = () => setMode('exclude');
  const undo = () => {
    if (!prompt.undo()) return;
    chosen = null;
    decode().catch(fail);
  };
  const reset = () => change(() => prompt.reset());
  undoBtn.onclick = undo;
  resetBtn.onclick = reset;
  const onKey = (e) => {
    if (e.target.closest?.('input,select,textarea')) return;
    if ((e.ctrlKey || e.metaKey) && e.key === 'z') (e.preventDefault(), undo());
    else if (e.key === 'Escape') reset();
  };
  window.addEventListener('keydown', onKey);

  confirm.onclick = async () => {
    if (!out) return;
    submitError.textContent = '';
    const t = Number(target.value);
    if (!Number.isInteger(t) || t < 1000 || t > 2_000_000) {
      submitError.textContent = 'Target triangles must be a whole number from 1 000 to 2 000 000.';
      return;
    }
    confirm.disabled = true;
    confirm.textContent = 'Submitting…';
    try {
      const png = await maskPng(out.masks, pick(), width, height);
      const options = { target_triangles: String(t), method: method.value, format: format.value };
      const p = PRESETS[preset.value];
      if (p?.remove_outliers) options.remove_outliers = 'true';
      if (p?.max_points) options.max_points = String(p.max_points);
      await onSubmit(png, options);
      prompt.clear();
      out = null;
      chosen = null;
      redraw();
      info.textContent = 'Submitted. Click another object to select it, or follow this one below.';
    } catch (err) {
      submitError.textContent = `${err.message} Your selection is kept: try again.`;
    } finally {
      confirm.textContent = 'Reconstruct this object';
      confirm.disabled = !out;
    }
  };

  const observer = new ResizeObserver(fit);
  observer.observe(stage);
  requestAnimationFrame(fit);
  return {
    element,
    redraw,
    dispose() {
      observer.disconnect();
      window.removeEventListener('keydown', onKey);
    },
  };
}
