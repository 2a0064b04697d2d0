// Steps 3 and 4: the photo's objects, each with its colour and live stage (polled),
// failures with their reason and a retry, and once done: statistics, downloads and the
// 3D viewer.
import { deleteObject, download, fileUrl, getObject, imageUrl, listObjects, makeScene, renameObject, request, submitMask } from '../api.js';
import { contrasting, meanUnder } from '../colours.js';
import { downloadName, objectName, sceneName } from '../names.js';
import { STAGES, css, h, renameField, showBanner, sleep } from '../ui.js';
import { BACKGROUNDS, Viewer } from '../viewer.js';

const TERMINAL = new Set(['done', 'failed']);
const ORDER = ['submitted', 'reconstructing', 'meshing', 'done'];
const LABELS = { 'splat.ply': 'Splat PLY', 'mesh.glb': 'GLB', 'mesh.obj': 'OBJ', 'mesh.ply': 'Mesh PLY', 'mesh.stl': 'STL', 'thumb.png': 'Picture' };

/** `photo`: the photo's ImageBitmap (object colours are picked against its pixels);
 * `photoView()`: the photo's current view (its name, for download names). */
export function objectsPanel({ session, photo = null, photoView = () => ({}), signal, onStep, focus = null }) {
  const list = h('div.objects', { testid: 'objects' });
  const sceneBar = h('div.row.scene', { testid: 'scene-bar', hidden: true });
  const viewerBox = h('section.viewer.card', { testid: 'viewer', hidden: true });
  const element = h('div.results', {}, h('h2', { text: 'Objects' }), list, sceneBar, viewerBox);
  let objects = [];
  const masks = new Map(); // object id -> { bits, mean, canvas }: the mask and its tinted overlay
  const colours = new Map(); // object id -> [r, g, b]
  const thumbs = new Map(); // object id -> object URL of its picture (null: none)
  let photoPixels = null;
  let viewer = null;
  let polling = false;
  const panel = { element, onChange: () => {} };

  panel.count = () => objects.length;
  panel.masks = () => objects.map((o) => ({ image: masks.get(o.id)?.canvas }));
  /** The colours of the objects so far, in order (a new selection avoids them). */
  panel.colours = () => objects.map((o) => colours.get(o.id)).filter(Boolean);

  panel.load = async () => {
    objects = (await listObjects(session)).objects;
    render();
    objects.forEach((o) => loadMask(o));
    const i = objects.findIndex((o) => o.id === focus);
    if (i >= 0) {
      list.querySelector(`[data-id="${focus}"]`)?.scrollIntoView({ block: 'center' });
      if (objects[i].state === 'done') view(objects[i], i);
    }
    poll();
  };

  panel.submit = async (png, options) => {
    const view = await submitMask(session, png, options);
    objects.push(view);
    onStep(3);
    render();
    // The new card may be below the fold: bring it into view, as little as needed.
    list.querySelector(`[data-id="${view.id}"]`)?.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    loadMask(view);
    poll();
    return view;
  };

  async function loadMask(o) {
    try {
      const mask = o.files.find((f) => f.name === 'mask.png');
      const bitmap = await createImageBitmap(await (await request(fileUrl(mask), { signal })).blob());
      const c = new OffscreenCanvas(bitmap.width, bitmap.height);
      const g = c.getContext('2d');
      g.drawImage(bitmap, 0, 0);
      const data = g.getImageData(0, 0, c.width, c.height).data;
      const bits = new Uint8Array(c.width * c.height);
      for (let p = 0; p < bits.length; p++) bits[p] = data[p * 4] > 127 && data[p * 4 + 3] > 127 ? 1 : 0;
      masks.set(o.id, { bits, mean: meanUnder(pixelsOf(c.width, c.height), bits), canvas: c });
      recolour();
    } catch {
      /* the overlay of a past object is a convenience */
    }
  }

  /** The photo's pixels at the masks' size (read once). */
  function pixelsOf(w, h) {
    if (!photo) return new Uint8ClampedArray(w * h * 4);
    if (!photoPixels || photoPixels.w !== w) {
      const c = new OffscreenCanvas(w, h);
      const g = c.getContext('2d', { willReadFrequently: true });
      g.drawImage(photo, 0, 0, w, h);
      photoPixels = { w, data: g.getImageData(0, 0, w, h).data };
    }
    return photoPixels.data;
  }

  /** Every object's colour, in order: the one standing out most from its pixels that no
   * earlier object has; the overlays repainted in them. */
  function recolour() {
    const used = [];
    for (const o of objects) {
      const m = masks.get(o.id);
      const colour = contrasting(m?.mean ?? null, used);
      used.push(colour);
      if (m && m.painted !== colour.join()) {
        const g = m.canvas.getContext('2d');
        const image = g.createImageData(m.canvas.width, m.canvas.height);
        const [r, gr, b] = colour;
        for (let p = 0; p < m.bits.length; p++) if (m.bits[p]) image.data.set([r, gr, b, 90], p * 4);
        g.putImageData(image, 0, 0);
        m.painted = colour.join();
      }
      colours.set(o.id, colour);
    }
    render();
    panel.onChange();
  }

  /** The object's picture (once per object: a poll re-renders every second). */
  function loadThumb(o) {
    if (thumbs.has(o.id)) return;
    const link = o.files.find((f) => f.name === 'thumb.png');
    if (!link) return;
    thumbs.set(o.id, null);
    imageUrl(fileUrl(link), signal).then((url) => {
      if (!url) return;
      thumbs.set(o.id, url);
      signal.addEventListener('abort', () => URL.revokeObjectURL(url));
      render();
    });
  }

  async function poll() {
    if (polling) return;
    polling = true;
    let delay = 1000;
    try {
      while (!signal.aborted && objects.some((o) => !TERMINAL.has(o.state))) {
        await sleep(delay);
        try {
          const fresh = (await listObjects(session)).objects;
          if (signal.aborted) return;
          objects = fresh;
          delay = 1000;
          list.dataset.connection = 'ok';
        } catch (err) {
          if (err.status !== 0) throw err;
          list.dataset.connection = 'lost';
          delay = Math.min(delay * 2, 15000);
        }
        render();
      }
    } finally {
      polling = false;
    }
  }

  function render() {
    if (!objects.length) {
      list.replaceChildren(h('p.muted', { text: 'Nothing submitted yet. Select an object above and press “Reconstruct this object”.' }));
      return;
    }
    const lost = list.dataset.connection === 'lost' ? h('p.warn', { text: 'Connection lost: retrying. Your objects keep processing on the server.' }) : null;
    list.replaceChildren(...[lost, ...objects.map(card)].filter(Boolean));
    const done = objects.filter((o) => o.state === 'done').length;
    sceneBar.hidden = done === 0;
    if (done) {
      onStep(4);
      objects.filter((o) => o.state === 'done').forEach(loadThumb);
      sceneBar.replaceChildren(
        h('span.muted.small', { text: `${done} done object${done === 1 ? '' : 's'}, placed as in the photo:` }),
        h('button', { testid: 'view-scene', text: 'View all in one scene', onclick: () => viewScene() }),
        h('button', { testid: 'download-scene', text: '⤓ Scene GLB', title: 'Every done object in one GLB, one node each', onclick: () => downloadScene() }),
      );
    }
  }

  function card(o, i) {
    const colour = colours.get(o.id) ?? contrasting(null, objects.slice(0, i).map((x) => colours.get(x.id)).filter(Boolean));
    const at = ORDER.indexOf(o.state);
    const times = stageSeconds(o);
    const stages = h(
      'ol.stages',
      {},
      ORDER.map((s, k) =>
        h(
          `li${o.state === 'failed' ? '' : k < at || o.state === 'done' ? '.done' : k === at ? '.current' : ''}`,
          { 'data-stage': s },
          STAGES[s],
          times[s] !== undefined && s !== 'done' ? h('span.secs', { testid: 'stage-time', text: ` ${times[s]} s` }) : null,
        ),
      ),
    );
    const secs = Math.round((o.updated_ms - o.created_ms) / 1000);
    const from = o.variant_of ? objects.findIndex((x) => x.id === o.variant_of) : -1;
    const title = from >= 0 ? `${objectName(o, i)} · again from ${objectName(objects[from], from)}` : objectName(o, i);
    const thumb = thumbs.get(o.id);
    const parts = [
      thumb ? h('img.thumb', { testid: 'object-thumb', src: thumb, alt: `${objectName(o, i)}, as the photo's camera sees it` }) : null,
      h(
        'div.head',
        {},
        h('span.swatch', { testid: 'object-swatch', 'data-colour': colour.join(','), style: `background:${css(colour)}` }),
        h('strong', { testid: 'object-title', text: title }),
        h('button.link', { testid: 'rename-object', text: 'Rename', title: 'Give this object a name', onclick: (e) => rename(o, i, e.target.closest('.head')) }),
        o.seed ? h('span.muted.small', { testid: 'object-seed', text: `seed ${o.seed}` }) : null,
        h(`span.badge.${o.state}`, { testid: 'object-state', text: STAGES[o.state] ?? o.state }),
      ),
      stages,
    ];
    if (o.state === 'failed') {
      parts.push(
        h('p.error', { testid: 'object-failure', text: `Failed while ${o.failure?.stage ?? 'processing'}: ${o.failure?.reason ?? 'unknown reason'}.` }),
        h('button', { text: 'Try again', testid: 'retry-object', onclick: () => retry(o) }),
      );
    }
    // The mail service refused the owner's address for good: say so, rather than let
    // them wait for a mail that will never come.
    if (o.mail?.status === 'undeliverable') {
      parts.push(h('p.small.note', { testid: 'object-mail-undeliverable', text: `We could not email you about this object: ${o.mail.reason}` }));
    }
    if (o.state === 'done' && o.stats) {
      const s = o.stats;
      parts.push(
        h('p.small', { testid: 'object-stats', text: `${s.vertices.toLocaleString()} vertices · ${s.triangles.toLocaleString()} triangles · ${s.watertight ? 'watertight' : 'open surface'} · ${secs} s` }),
      );
      const note = surfaceNote(o);
      if (note) parts.push(h('p.small.note', { testid: 'object-note', text: note }));
    }
    if (o.state === 'done') {
      parts.push(
        h(
          'div.row',
          {},
          h('button.primary', { testid: 'view-object', text: 'View in 3D', onclick: () => view(o, i) }),
          o.files.filter((f) => f.name !== 'mask.png').map((f) => h('button', { testid: `download-${f.name}`, text: `⤓ ${LABELS[f.name] ?? f.name}`, title: `Download ${f.name}`, onclick: () => fetchFresh(o, f.name).then((link) => download(fileUrl(link), downloadName(photoView(), o, i, f.name))) })),
        ),
        h('button', { testid: 'generate-again', text: 'Generate again', title: 'The same selection with a new seed, kept as a variant', onclick: () => again(o) }),
      );
    }
    if (o.state === 'done' || o.state === 'failed') {
      parts.push(h('button.link.danger', { testid: 'delete-object', text: 'Delete', title: 'Delete this object and its files', onclick: () => remove(o, i) }));
    }
    return h(`article.object${o.id === focus ? '.focus' : ''}${thumb ? '.with-thumb' : ''}`, { testid: 'object-card', 'data-state': o.state, 'data-id': o.id }, ...parts.filter(Boolean));
  }

  /** Swaps the card's title for a field: Enter (or leaving it) saves, Escape cancels; an
   * empty name goes back to "Object N". */
  function rename(o, i, head) {
    head.querySelector('[data-testid="rename-object"]').remove();
    renameField(head.querySelector('[data-testid="object-title"]'), {
      current: o.name,
      placeholder: `Object ${i + 1}`,
      label: 'Object name',
      testid: 'rename-field',
      what: objectName(o, i),
      save: async (name) => {
        const view = await renameObject(session, o.id, name);
        objects = objects.map((x) => (x.id === o.id ? { ...x, name: view.name } : x));
      },
      after: () => render(),
    });
  }

  /** The file's link from a fresh view: presigned URLs only live 15 minutes. */
  async function fetchFresh(o, name) {
    const view = await getObject(session, o.id);
    const link = view.files.find((f) => f.name === name);
    if (!link) throw new Error(`${name} is not available for this object`);
    return link;
  }

  async function remove(o, i) {
    if (!confirm(`Delete ${objectName(o, i)} and its files? This cannot be undone.`)) return;
    try {
      await deleteObject(session, o.id);
    } catch (err) {
      if (err.status !== 404) return showBanner(`Could not delete ${objectName(o, i)}: ${err.message}`);
    }
    if (viewerBox.dataset.object === o.id) {
      viewer?.dispose();
      viewer = null;
      viewerBox.hidden = true;
    }
    objects = objects.filter((x) => x.id !== o.id);
    masks.delete(o.id);
    recolour();
  }

  async function again(o) {
    const png = await (await request(fileUrl(await fetchFresh(o, 'mask.png')))).blob();
    const seed = 1 + Math.floor(Math.random() * 2_147_483_646);
    await panel.submit(png, { ...submitOptions(o), seed: String(seed), variant_of: o.variant_of ?? o.id });
  }

  async function retry(o) {
    const png = await (await request(fileUrl(await fetchFresh(o, 'mask.png')))).blob();
    await panel.submit(png, submitOptions(o));
  }

  async function downloadScene() {
    try {
      const scene = await makeScene(session);
      await download(fileUrl(scene.file), sceneName(photoView(), session));
    } catch (err) {
      showBanner(`Could not make the scene: ${err.message}`);
    }
  }

  /** Every done object's mesh in one view, placed by its pose (the scene GLB). */
  async function viewScene() {
    viewer?.dispose();
    viewerBox.hidden = false;
    viewerBox.dataset.object = 'scene';
    delete viewerBox.dataset.ready;
    const stage = h('div.canvas-box', { testid: 'viewer-canvas' });
    const state = h('p.muted.small', { testid: 'viewer-state', text: 'Making the scene…' });
    const tools = h(
      'div.row.view-tools',
      {},
      h('button', { testid: 'view-reset', text: 'Reset view', onclick: () => viewer.resetView() }),
      h('button', { testid: 'view-fullscreen', text: 'Fullscreen', onclick: () => viewer.fullscreen() }),
      h('button', { testid: 'scene-download', text: '⤓ Scene GLB', onclick: () => downloadScene() }),
    );
    viewerBox.replaceChildren(h('h2', { text: 'All objects in one scene' }), stage, tools, state);
    viewer = new Viewer(stage);
    viewerBox.scrollIntoView({ behavior: 'smooth', block: 'start' });
    try {
      const scene = await makeScene(session);
      const glb = await (await request(fileUrl(scene.file), { signal })).arrayBuffer();
      const nodes = await viewer.setMesh(glb);
      viewerBox.dataset.nodes = String(nodes);
      state.textContent = `${scene.objects.length} object${scene.objects.length === 1 ? '' : 's'} as the photo's camera placed them (meshes) · drag to orbit, scroll to zoom`;
      viewerBox.dataset.ready = 'true';
    } catch (err) {
      state.textContent = `The scene could not be shown: ${err.message}.`;
      state.className = 'error';
    }
  }

  async function view(o, i) {
    viewer?.dispose();
    delete viewerBox.dataset.ready;
    viewerBox.hidden = false;
    viewerBox.dataset.object = o.id;
    const stage = h('div.canvas-box', { testid: 'viewer-canvas' });
    const state = h('p.muted.small', { testid: 'viewer-state', text: 'Loading the splat and the mesh…' });
    const buttons = ['splat', 'mesh', 'both'].map((w) => h('button.toggle', { testid: `show-${w}`, text: w === 'both' ? 'Both' : w === 'splat' ? 'Splat' : 'Mesh', onclick: () => show(w) }));
    const show = (which) => {
      viewer.show(which);
      buttons.forEach((b) => b.classList.toggle('on', b.dataset.testid === `show-${which}`));
      viewerBox.dataset.showing = which;
    };
    const rotate = h('button.toggle', { testid: 'view-rotate', text: 'Auto-rotate', onclick: () => {
      const on = !rotate.classList.contains('on');
      rotate.classList.toggle('on', on);
      viewer.autoRotate(on);
    } });
    const background = h(
      'select',
      { testid: 'view-background', title: 'Background', onchange: () => viewer.background(background.value) },
      Object.keys(BACKGROUNDS).map((b) => h('option', { value: b, text: `${b[0].toUpperCase()}${b.slice(1)} background` })),
    );
    const tools = h(
      'div.row.view-tools',
      {},
      h('button', { testid: 'view-reset', text: 'Reset view', onclick: () => viewer.resetView() }),
      rotate,
      h('button', { testid: 'view-fullscreen', text: 'Fullscreen', onclick: () => viewer.fullscreen() }),
      background,
    );
    viewerBox.replaceChildren(h('h2', { text: `${objectName(o, i)} in 3D` }), h('div.row', {}, buttons), stage, tools, state);
    viewer = new Viewer(stage, { pose: o.pose });
    viewerBox.scrollIntoView({ behavior: 'smooth', block: 'start' });
    const file = (name) => fetchFresh(o, name).then((link) => request(fileUrl(link), { signal })).then((r) => r.arrayBuffer());
    try {
      const [splat, mesh] = await Promise.all([file('splat.ply'), file('mesh.glb')]);
      const { points, renderer } = await viewer.setSplat(splat);
      await viewer.setMesh(mesh);
      show('mesh');
      const how = renderer === 'gaussian' ? 'Gaussian splats' : 'splats as points';
      const touch = matchMedia('(pointer: coarse)').matches;
      const hint = touch ? 'drag to orbit, pinch to zoom, two-finger drag to pan' : 'drag to orbit, scroll to zoom, right-drag to pan';
      state.textContent = `${points.toLocaleString()} ${how} · ${o.pose ? 'first view from the photo’s camera · ' : ''}${hint}`;
      viewerBox.dataset.ready = 'true';
    } catch (err) {
      state.textContent = `The 3D view could not be loaded: ${err.message}. The files can still be downloaded.`;
      state.className = 'error';
    }
  }

  panel.dispose = () => viewer?.dispose();
  return panel;
}

/** Seconds spent in each stage so far (the current one until now), from `stage_ms`. */
export function stageSeconds(o, now = Date.now()) {
  const entered = { submitted: o.created_ms, ...(o.stage_ms ?? {}) };
  const out = {};
  for (let k = 0; k < ORDER.length - 1; k++) {
    const start = entered[ORDER[k]];
    if (start === undefined) continue;
    const next = ORDER.slice(k + 1).map((s) => entered[s]).find((t) => t !== undefined) ?? (o.state === 'failed' ? o.updated_ms : undefined);
    const end = next ?? (ORDER[k] === o.state ? now : undefined);
    if (end !== undefined) out[ORDER[k]] = Math.max(0, Math.round((end - start) / 1000));
  }
  return out;
}

/** Why a done object's mesh is open, or has fewer triangles than asked; null when neither. */
export function surfaceNote(o) {
  const { stats: s, options: opt } = o;
  if (!s || !opt) return null;
  const notes = [];
  if (!s.watertight) {
    notes.push(
      opt.method === 'ball_pivoting'
        ? 'Open surface: ball pivoting only joins splats a ball can roll between, so thin or sparse parts stay open. Poisson closes the surface.'
        : 'Open surface: Poisson’s surface was trimmed where no splats supported it.',
    );
  }
  if (s.triangles < 0.9 * opt.target_triangles) {
    notes.push(
      opt.method === 'ball_pivoting'
        ? `${s.triangles.toLocaleString()} triangles of the ${opt.target_triangles.toLocaleString()} asked: ball pivoting makes at most one triangle per few splats, and decimation only removes triangles.`
        : `${s.triangles.toLocaleString()} triangles of the ${opt.target_triangles.toLocaleString()} asked: Poisson at its fixed depth made no more from these ${Number(s.splats_used ?? 0).toLocaleString()} splats, and decimation only removes triangles.`,
    );
  }
  return notes.length ? notes.join(' ') : null;
}

/** The query parameters that submit `o`'s mask again with the same mesh options. */
function submitOptions(o) {
  const { target_triangles, method, format, remove_outliers, max_points } = o.options;
  const out = { target_triangles: String(target_triangles), method, format };
  if (remove_outliers) out.remove_outliers = 'true';
  if (max_points) out.max_points = String(max_points);
  return out;
}
