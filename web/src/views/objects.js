// Steps 3 and 4: the photo's objects, each with its colour and live stage (polled),
// failures with their reason and a retry, and once done: statistics, downloads and the
// 3D viewer.
import { deleteObject, download, fileUrl, getObject, listObjects, request, submitMask } from '../api.js';
import { STAGES, colourOf, css, h, showBanner, sleep } from '../ui.js';
import { Viewer } from '../viewer.js';

const TERMINAL = new Set(['done', 'failed']);
const ORDER = ['submitted', 'reconstructing', 'meshing', 'done'];
const LABELS = { 'splat.ply': 'Splat PLY', 'mesh.glb': 'GLB', 'mesh.obj': 'OBJ', 'mesh.ply': 'Mesh PLY', 'mesh.stl': 'STL' };

export function objectsPanel({ session, signal, onStep, focus = null }) {
  const list = h('div.objects', { testid: 'objects' });
  const viewerBox = h('section.viewer.card', { testid: 'viewer', hidden: true });
  const element = h('div.results', {}, h('h2', { text: 'Objects' }), list, viewerBox);
  let objects = [];
  const masks = new Map(); // object id -> tinted overlay canvas
  let viewer = null;
  let polling = false;
  const panel = { element, onChange: () => {} };

  panel.count = () => objects.length;
  panel.masks = () => objects.map((o) => ({ image: masks.get(o.id) }));

  panel.load = async () => {
    objects = (await listObjects(session)).objects;
    render();
    objects.forEach((o, i) => loadMask(o, i));
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
    loadMask(view, objects.length - 1);
    poll();
    return view;
  };

  async function loadMask(o, i) {
    try {
      const mask = o.files.find((f) => f.name === 'mask.png');
      const bitmap = await createImageBitmap(await (await request(fileUrl(mask), { signal })).blob());
      const c = new OffscreenCanvas(bitmap.width, bitmap.height);
      const g = c.getContext('2d');
      g.drawImage(bitmap, 0, 0);
      const image = g.getImageData(0, 0, c.width, c.height);
      const [r, gr, b] = colourOf(i);
      for (let p = 0; p < image.data.length; p += 4) {
        const on = image.data[p] > 127 && image.data[p + 3] > 127;
        image.data.set(on ? [r, gr, b, 90] : [0, 0, 0, 0], p);
      }
      g.putImageData(image, 0, 0);
      masks.set(o.id, c);
      panel.onChange();
    } catch {
      /* the overlay of a past object is a convenience */
    }
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
    if (objects.some((o) => o.state === 'done')) onStep(4);
  }

  function card(o, i) {
    const colour = colourOf(i);
    const at = ORDER.indexOf(o.state);
    const stages = h(
      'ol.stages',
      {},
      ORDER.map((s, k) => h(`li${o.state === 'failed' ? '' : k < at || o.state === 'done' ? '.done' : k === at ? '.current' : ''}`, { text: STAGES[s] })),
    );
    const secs = Math.round((o.updated_ms - o.created_ms) / 1000);
    const parts = [
      h('div.head', {}, h('span.swatch', { style: `background:${css(colour)}` }), h('strong', { text: `Object ${i + 1}` }), h(`span.badge.${o.state}`, { testid: 'object-state', text: STAGES[o.state] ?? o.state })),
      stages,
    ];
    if (o.state === 'failed') {
      parts.push(
        h('p.error', { testid: 'object-failure', text: `Failed while ${o.failure?.stage ?? 'processing'}: ${o.failure?.reason ?? 'unknown reason'}.` }),
        h('button', { text: 'Try again', testid: 'retry-object', onclick: () => retry(o) }),
      );
    }
    if (o.state === 'done' && o.stats) {
      const s = o.stats;
      parts.push(
        h('p.small', { testid: 'object-stats', text: `${s.vertices.toLocaleString()} vertices · ${s.triangles.toLocaleString()} triangles · ${s.watertight ? 'watertight' : 'open surface'} · ${secs} s` }),
      );
    }
    if (o.state === 'done') {
      parts.push(
        h(
          'div.row',
          {},
          h('button.primary', { testid: 'view-object', text: 'View in 3D', onclick: () => view(o, i) }),
          o.files.filter((f) => f.name !== 'mask.png').map((f) => h('button', { testid: `download-${f.name}`, text: `⤓ ${LABELS[f.name] ?? f.name}`, title: `Download ${f.name}`, onclick: () => fetchFresh(o, f.name).then((link) => download(fileUrl(link), downloadName(o, i, f.name))) })),
        ),
      );
    }
    if (o.state === 'done' || o.state === 'failed') {
      parts.push(h('button.link.danger', { testid: 'delete-object', text: 'Delete', title: 'Delete this object and its files', onclick: () => remove(o, i) }));
    }
    return h(`article.object${o.id === focus ? '.focus' : ''}`, { testid: 'object-card', 'data-state': o.state, 'data-id': o.id }, ...parts);
  }

  /** The file's link from a fresh view: presigned URLs only live 15 minutes. */
  async function fetchFresh(o, name) {
    const view = await getObject(session, o.id);
    const link = view.files.find((f) => f.name === name);
    if (!link) throw new Error(`${name} is not available for this object`);
    return link;
  }

  async function remove(o, i) {
    if (!confirm(`Delete object ${i + 1} and its files? This cannot be undone.`)) return;
    try {
      await deleteObject(session, o.id);
    } catch (err) {
      if (err.status !== 404) return showBanner(`Could not delete object ${i + 1}: ${err.message}`);
    }
    if (viewerBox.dataset.object === o.id) {
      viewer?.dispose();
      viewer = null;
      viewerBox.hidden = true;
    }
    objects = objects.filter((x) => x.id !== o.id);
    masks.delete(o.id);
    render();
    panel.onChange();
  }

  async function retry(o) {
    const png = await (await request(fileUrl(await fetchFresh(o, 'mask.png')))).blob();
    const { target_triangles, method, format } = o.options;
    await panel.submit(png, { target_triangles: String(target_triangles), method, format });
  }

  async function view(o, i) {
    viewer?.dispose();
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
    viewerBox.replaceChildren(h('h2', { text: `Object ${i + 1} in 3D` }), h('div.row', {}, buttons), stage, state);
    viewer = new Viewer(stage);
    viewerBox.scrollIntoView({ behavior: 'smooth', block: 'start' });
    const file = (name) => fetchFresh(o, name).then((link) => request(fileUrl(link), { signal })).then((r) => r.arrayBuffer());
    try {
      const [splat, mesh] = await Promise.all([file('splat.ply'), file('mesh.glb')]);
      const { points } = viewer.setSplat(splat);
      await viewer.setMesh(mesh);
      show('mesh');
      state.textContent = `${points.toLocaleString()} splats · drag to orbit, scroll to zoom, right-drag to pan`;
      viewerBox.dataset.ready = 'true';
    } catch (err) {
      state.textContent = `The 3D view could not be loaded: ${err.message}. The files can still be downloaded.`;
      state.className = 'error';
    }
  }

  panel.dispose = () => viewer?.dispose();
  return panel;
}

/** A download's file name: the photo's session and the object's number, so files from
 * different photos do not collide (`gen3d-4kq2mz-object-1-mesh.glb`). */
export const downloadName = (o, i, name) => `gen3d-${String(o.session).slice(-6)}-object-${i + 1}-${name}`;
