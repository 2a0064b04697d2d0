// Step 2: the selection stage. Left click includes, right click (or Exclude mode)
// excludes, a drag draws a box; markers remove their point when clicked; undo/reset;
// a hover preview before the first click; the three candidate masks; a cut-out preview.
// Every change re-runs the decoder in the worker and redraws the overlay.
// This file lays the stage and its tools out and holds what the decoder last said; the
// prompt is `prompt.js`, the mesh options `mesh-options.js`, the drawing
// `selector-draw.js` and the pointer and key handling `selector-input.js`.
import { maskPng } from '../mask.js';
import { PRESETS, TRIANGLES, meshOptions } from '../mesh-options.js';
import { boxBetween, labelFor, promptState } from '../prompt.js';
import { h } from '../ui.js';
import { candidateList, drawCutout, drawMarkers, drawOverlay } from './selector-draw.js';
import { keyInput, pointerInput } from './selector-input.js';

/** A phone or tablet: touch instructions, no hover. */
export const TOUCH = typeof matchMedia === 'function' && matchMedia('(pointer: coarse)').matches;

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
  const target = h('input', { type: 'number', min: String(TRIANGLES.min), max: String(TRIANGLES.max), step: '1000', value: '50000', testid: 'target-triangles' });
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
  const prompt = promptState(); // the clicks and box
  let out = null; // decoder output for the current prompt
  let chosen = null; // the user's candidate pick, null = best IoU
  let preview = null; // hover output
  let size = { w: 1, h: 1 };
  let photoPixels = null; // the photo at `size`, read back once per layout
  let colour = colourFor(null);
  let generation = 0;
  let extrasFrame = 0;
  const drawCandidates = candidateList(photo, width, height);

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
  const pixels = () => (photoPixels ??= photoCanvas.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, size.w, size.h).data);

  function redraw() {
    const shown = out ?? preview;
    const drawn = drawOverlay(overlay, {
      size,
      layers: showObjects.checked ? layers() : [],
      shown,
      c: shown && (out ? pick() : best(shown)),
      strong: Boolean(out),
      pixels,
      colourFor,
    });
    if (drawn) colour = drawn.colour;
    const bits = out && drawn ? drawn.bits : null; // the chosen mask, for the cut-out
    drawMarkers(markers, {
      prompt,
      width,
      height,
      colour,
      removePoint: (i) => change(() => prompt.remove(i)),
      removeBox: () => change(() => prompt.clearBox()),
    });
    confirm.disabled = !out;
    // The candidates and the cut-out follow a frame later, off the click's critical path.
    cancelAnimationFrame(extrasFrame);
    extrasFrame = requestAnimationFrame(() => {
      drawCandidates(candidates, out, pick(), (c) => ((chosen = c), redraw()));
      drawCutout(cutout, photoCanvas, bits, size.w);
    });
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

  let hovering = false;
  async function hoverDecode(p) {
    if (hovering || !hover.checked || !prompt.empty) return;
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

  pointerInput(stage, rubber, {
    width,
    height,
    onClick: (p, button) => change(() => prompt.add(p.x, p.y, labelFor(button, mode))),
    onBox: (from, to) => change(() => prompt.setBox(boxBetween(from, to))),
    onHover: hoverDecode,
    onLeave: () => {
      if (preview && !out) {
        preview = null;
        redraw();
      }
    },
  });

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
  const unbindKeys = keyInput({ undo, reset });

  confirm.onclick = async () => {
    if (!out) return;
    submitError.textContent = '';
    const { options, error } = meshOptions({ preset: preset.value, target: target.value, method: method.value, format: format.value });
    if (error) {
      submitError.textContent = error;
      return;
    }
    confirm.disabled = true;
    confirm.textContent = 'Submitting…';
    try {
      const png = await maskPng(out.masks, pick(), width, height);
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
      unbindKeys();
    },
  };
}
