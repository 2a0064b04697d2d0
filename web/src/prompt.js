// The selection's prompt, apart from its drawing and its input handling: include and
// exclude clicks and at most one box, in photo pixels, with undo. The selector view
// draws it, turns pointer gestures into these calls and decodes after each change.

/** A click's label: the right button, or the Exclude mode, excludes. */
export const labelFor = (button, mode) => (button === 2 || mode === 'exclude' ? 'exclude' : 'include');

/** The box a drag from `a` to `b` spans, corners ordered. */
export const boxBetween = (a, b) => ({ x0: Math.min(a.x, b.x), y0: Math.min(a.y, b.y), x1: Math.max(a.x, b.x), y1: Math.max(a.y, b.y) });

export function promptState() {
  let points = [];
  let box = null;
  let history = [];
  const remember = () => history.push({ points: points.map((p) => ({ ...p })), box: box && { ...box } });
  return {
    get points() {
      return points;
    },
    get box() {
      return box;
    },
    /** Nothing chosen: no click, no box. */
    get empty() {
      return !points.length && !box;
    },
    /** Something to decode: an include click or a box (excludes alone select nothing). */
    get decodable() {
      return Boolean(box) || points.some((p) => p.label === 'include');
    },
    add(x, y, label) {
      remember();
      points.push({ x, y, label });
    },
    remove(index) {
      remember();
      points.splice(index, 1);
    },
    setBox(b) {
      remember();
      box = b;
    },
    clearBox() {
      remember();
      box = null;
    },
    /** Clears the prompt; undo brings it back. */
    reset() {
      remember();
      points = [];
      box = null;
    },
    /** The state before the last change; false when there is none. */
    undo() {
      const prev = history.pop();
      if (!prev) return false;
      ({ points, box } = prev);
      return true;
    },
    /** A fresh start (after a submit): no prompt and no history. */
    clear() {
      points = [];
      box = null;
      history = [];
    },
    /** The API's `POST …/masks` body. */
    json() {
      return { points, ...(box ? { box } : {}) };
    },
  };
}
