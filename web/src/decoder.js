// The page's handle on the decoder worker: promise-based calls; decode requests are
// "latest wins" so a burst of clicks or hover moves never queues stale work.
import { FRAME } from './mask.js';

export class DecoderClient {
  constructor() {
    this.worker = new Worker(new URL('./decoder.worker.js', import.meta.url), { type: 'module' });
    this.pending = new Map();
    this.next = 1;
    this.busy = false;
    this.queued = null;
    this.worker.onmessage = ({ data }) => {
      const p = this.pending.get(data.id);
      this.pending.delete(data.id);
      if (!p) return;
      if (data.ok) p.resolve(data);
      else p.reject(new Error(data.error));
    };
    this.worker.onerror = (e) => {
      for (const p of this.pending.values()) p.reject(new Error(e.message || 'the decoder worker failed'));
      this.pending.clear();
    };
  }

  call(type, payload = {}, transfer = []) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type, id, ...payload }, transfer);
    });
  }

  /** `split`: {prepare, click} URLs of the split decoder, or null for the one-graph `modelUrl`. */
  init(modelUrl, split = null) {
    return this.call('init', { modelUrl, split, threads: Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) });
  }

  setEmbeddings(buffer) {
    return this.call('embeddings', { buffer }, [buffer]);
  }

  /** Prompt tensors per the SAM 3 tracker contract: points in the 1008 frame, then box corners 2/3, then always one (0,0)/-1 pad point. */
  static tensors(points, box, width, height) {
    const sx = FRAME / width;
    const sy = FRAME / height;
    const coords = [];
    const labels = [];
    for (const p of points) {
      coords.push(p.x * sx, p.y * sy);
      labels.push(p.label === 'include' ? 1 : 0);
    }
    if (box) {
      coords.push(box.x0 * sx, box.y0 * sy, box.x1 * sx, box.y1 * sy);
      labels.push(2, 3);
    }
    // SAM 3 (like SAM 2) ends every prompt with a pad point, box or not (SAM 1 did not with a box).
    coords.push(0, 0);
    labels.push(-1);
    return { coords, labels };
  }

  /** Decodes a prompt; resolves null when a newer request superseded this one. */
  decode(points, box, width, height) {
    const request = DecoderClient.tensors(points, box, width, height);
    return new Promise((resolve, reject) => {
      this.queued?.resolve(null);
      this.queued = { request, resolve, reject };
      if (!this.busy) this.pump();
    });
  }

  async pump() {
    this.busy = true;
    while (this.queued) {
      const { request, resolve, reject } = this.queued;
      this.queued = null;
      try {
        const t0 = performance.now();
        const out = await this.call('decode', request);
        out.roundTrip = performance.now() - t0;
        resolve(out);
      } catch (e) {
        reject(e);
      }
    }
    this.busy = false;
  }

  terminate() {
    this.worker.terminate();
  }
}
