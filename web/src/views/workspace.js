// One photo's workspace: wait for its embeddings, click to select objects (decoded in
// the browser), submit each selection, follow it to a mesh, view and download it.
import { decoderSplit, decoderUrl, getSession, readWithProgress, renameSession, request } from '../api.js';
import { contrasting } from '../colours.js';
import { DecoderClient } from '../decoder.js';
import { sessionName } from '../names.js';
import { bytes, h, hideBanner, progressBar, renameField, showBanner, sleep } from '../ui.js';
import { objectsPanel } from './objects.js';
import { TOUCH, selector } from './selector.js';
import { recentlyUploaded, uploader } from './upload.js';

const EMBEDDING_TIMEOUT_MS = 10 * 60 * 1000;

/** `focus.object`: an object to show first (a mail's link), opened in the viewer if done. */
export function renderWorkspace(root, id, focus = {}) {
  const ctl = new AbortController();
  const alive = () => !ctl.signal.aborted;
  const status = h('p.status', { testid: 'status' });
  const bar = progressBar('prepare-progress');
  const steps = h(
    'ol.steps',
    {},
    ['Photo', 'Select', 'Reconstruct', 'View'].map((s, i) => h('li', { 'data-step': String(i + 1), text: s })),
  );
  const body = h('div.workspace', { testid: 'workspace', 'data-state': 'loading' });
  const heading = h('h1', { testid: 'photo-title', text: 'Photo' });
  const renameBtn = h('button.link', { testid: 'rename-photo', text: 'Rename', title: 'Give this photo a name', hidden: true });
  root.replaceChildren(h('div.title', {}, h('a', { href: '#/', text: '← My photos' }), heading, renameBtn), steps, status, bar, body);
  let view = {}; // the session's latest view (its name, for titles and download names)
  const titled = (s) => {
    view = s;
    heading.textContent = sessionName(s);
    renameBtn.hidden = false;
  };
  renameBtn.onclick = () => {
    renameBtn.hidden = true;
    renameField(heading, {
      current: view.name,
      placeholder: sessionName({ ...view, name: undefined }),
      label: 'Photo name',
      testid: 'rename-photo-field',
      what: 'the photo',
      save: async (name) => titled(await renameSession(id, name)),
      after: (field) => {
        field.replaceWith(heading);
        renameBtn.hidden = false;
      },
    });
  };
  const step = (n) => steps.querySelectorAll('li').forEach((li, i) => li.classList.toggle('current', i + 1 === n));
  const say = (text, cls = '') => {
    status.textContent = text;
    status.className = `status ${cls}`;
  };
  let decoder = null;
  let parts = [];

  // The photo, shown while its embeddings are prepared (once; a failure to show it is
  // only cosmetic).
  let preview = null;
  function showPreview(s) {
    if (preview) return;
    preview = request(s.direct?.image ?? `/v1/sessions/${id}/image`, { signal: ctl.signal })
      .then((r) => r.blob())
      .then((b) => {
        if (!alive() || body.dataset.state !== 'loading') return;
        const url = URL.createObjectURL(b);
        ctl.signal.addEventListener('abort', () => URL.revokeObjectURL(url));
        body.replaceChildren(h('img.preview', { src: url, testid: 'photo-preview', alt: 'Your photo, being prepared' }));
      })
      .catch(() => {});
  }

  async function waitReady() {
    const t0 = Date.now();
    let delay = 500;
    for (;;) {
      let s;
      try {
        s = await getSession(id);
      } catch (err) {
        if (err.status !== 0) throw err;
        say('Connection lost; retrying…', 'warn');
        await sleep((delay = Math.min(delay * 2, 8000)));
        continue;
      }
      if (!alive()) return null;
      if (s.state === 'ready' || s.state === 'failed') return s;
      // Just uploaded straight to storage: the session says `created` until storage's
      // event has been handled. Anything else still `created` was never uploaded.
      if (s.state === 'created' && !recentlyUploaded(id)) return s;
      if (s.state === 'uploaded' || s.state === 'embedding') showPreview(s);
      const secs = Math.round((Date.now() - t0) / 1000);
      say(
        s.state === 'embedding'
          ? `Analysing the photo (SAM 3 image encoder)… ${secs} s`
          : s.state === 'created'
            ? `Photo uploaded; waiting for storage to hand it over… ${secs} s`
            : `Photo uploaded; waiting for the encoder… ${secs} s`,
      );
      bar.hidden = false;
      bar.set(null, '');
      if (Date.now() - t0 > EMBEDDING_TIMEOUT_MS) throw new Error('Preparing the photo is taking far longer than it should. Reload to check again, or start over with another photo.');
      await sleep((delay = Math.min(delay * 1.5, 2000)));
    }
  }

  async function start() {
    body.dataset.state = 'loading';
    step(1);
    say('Loading…');
    bar.hidden = true;
    const session = await waitReady();
    if (!session) return;
    titled(session);
    if (session.state === 'created') {
      say('This photo was never uploaded. Choose it again:');
      body.replaceChildren(uploader({ session, onSession: () => start() }));
      return;
    }
    if (session.state === 'failed') {
      body.dataset.state = 'failed';
      say(`This photo could not be prepared: ${session.failure ?? 'unknown error'}.`, 'error');
      body.replaceChildren(h('a.button', { href: '#/', text: 'Start over with another photo' }));
      return;
    }
    const { width, height } = session.image;
    say('Downloading the photo’s embeddings…');
    bar.hidden = false;
    bar.set(0, '');
    decoder ??= new DecoderClient();
    const t0 = performance.now();
    const [photo, buffer] = await Promise.all([
      request(session.direct?.image ?? `/v1/sessions/${id}/image`, { signal: ctl.signal }).then((r) => r.blob()).then((b) => createImageBitmap(b)),
      request(session.direct?.embeddings ?? session.embeddings_url, { signal: ctl.signal }).then((r) =>
        readWithProgress(r, (done, total) => bar.set(total ? done / total : null, `Embeddings: ${bytes(done)}${total ? ` of ${bytes(total)}` : ''}`)),
      ),
      decoder.init(new URL(decoderUrl(), location.href).href, decoderSplit()),
    ]);
    const downloaded = buffer.byteLength;
    performance.measure('gen3d:embeddings-download', { start: t0, end: performance.now(), detail: { bytes: downloaded } });
    bar.set(1, 'Preparing the decoder…');
    await decoder.setEmbeddings(buffer);
    performance.measure('gen3d:embeddings-ready', { start: t0, end: performance.now(), detail: { bytes: downloaded } });
    if (!alive()) return;
    bar.hidden = true;
    if (photo.width !== width || photo.height !== height) console.warn('photo decoded at', photo.width, photo.height, 'server says', width, height);
    say(
      TOUCH
        ? 'Tap the object you want. Switch to Exclude, then tap, to remove areas; drag to draw a box; pinch to zoom the photo.'
        : 'Click the object you want. Right-click (or Exclude mode) removes areas; drag to draw a box.',
      'ok',
    );
    step(2);
    const objects = objectsPanel({ session: id, photo, photoView: () => view, signal: ctl.signal, onStep: step, focus: focus.object });
    const sel = selector({
      photo,
      width,
      height,
      decoder,
      // The new object's colour: standing out from its pixels, unlike the earlier objects'.
      colourFor: (mean) => contrasting(mean, objects.colours()),
      onSubmit: (png, options) => objects.submit(png, options),
      layers: () => objects.masks(),
    });
    objects.onChange = () => sel.redraw();
    parts = [sel, objects];
    body.replaceChildren(sel.element, objects.element);
    body.dataset.state = 'ready';
    await objects.load();
  }

  start().catch((err) => {
    if (!alive() || err.name === 'AbortError') return;
    body.dataset.state = 'error';
    bar.hidden = true;
    say(err.message, 'error');
    showBanner(err.message, { action: () => (hideBanner(), start().catch((e) => say(e.message, 'error'))), label: 'Retry' });
  });

  return () => {
    ctl.abort();
    for (const p of parts) p.dispose?.();
    decoder?.terminate();
  };
}
