// The selector's input handling: pointer gestures on the stage (a press adds a point, a
// drag draws a box behind a rubber band, a move with no button down asks for a hover
// preview) and the keys (Ctrl/⌘+Z undoes, Escape resets). What a gesture does to the
// prompt is the view's call. The helpers above the bindings touch no DOM (unit tests).

/** A press that moves further than this (CSS pixels) is a drag, not a click. */
export const DRAG_PX = 6;

/** Where an event at (clientX, clientY) falls on the photo (width×height) shown in
 * `rect`, in photo pixels clamped inside it, with its screen position (cx, cy). */
export function photoPoint({ clientX, clientY }, rect, width, height) {
  return {
    x: Math.min(width - 0.5, Math.max(0, ((clientX - rect.left) / rect.width) * width)),
    y: Math.min(height - 0.5, Math.max(0, ((clientY - rect.top) / rect.height) * height)),
    cx: clientX,
    cy: clientY,
  };
}

/** Whether the pointer has gone from its press `down` to `p` far enough to be a drag. */
export const isDrag = (down, p) => Math.hypot(p.cx - down.cx, p.cy - down.cy) > DRAG_PX;

/** The rubber band between screen points `a` and `b`, in CSS relative to `rect`. */
export const rubberBand = (a, b, rect) => ({
  left: `${Math.min(a.cx, b.cx) - rect.left}px`,
  top: `${Math.min(a.cy, b.cy) - rect.top}px`,
  width: `${Math.abs(a.cx - b.cx)}px`,
  height: `${Math.abs(a.cy - b.cy)}px`,
});

/** What a key press asks for: 'undo', 'reset' or null (typing in a field asks nothing). */
export function keyAction(e) {
  if (e.target?.closest?.('input,select,textarea')) return null;
  if ((e.ctrlKey || e.metaKey) && e.key === 'z') return 'undo';
  if (e.key === 'Escape') return 'reset';
  return null;
}

/**
 * Pointer input on `stage` (showing a width×height photo), the rubber band drawn in
 * `rubber`: `onClick(point, button)` for a press and release in place, `onBox(from, to)`
 * for a drag, `onHover(point)` for a move with no button down, `onLeave()`.
 */
export function pointerInput(stage, rubber, { width, height, onClick, onBox, onHover, onLeave }) {
  let down = null;
  const at = (e) => photoPoint(e, stage.getBoundingClientRect(), width, height);
  stage.addEventListener('contextmenu', (e) => e.preventDefault());
  stage.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 && e.button !== 2) return;
    down = { ...at(e), button: e.button, dragging: false };
    stage.setPointerCapture(e.pointerId);
  });
  stage.addEventListener('pointermove', (e) => {
    const p = at(e);
    if (!down) return onHover(p);
    if (!down.dragging && isDrag(down, p)) down.dragging = true;
    if (down.dragging) {
      Object.assign(rubber.style, rubberBand(down, p, stage.getBoundingClientRect()));
      rubber.hidden = false;
    }
  });
  stage.addEventListener('pointerleave', () => onLeave());
  stage.addEventListener('pointerup', (e) => {
    if (!down) return;
    const p = at(e);
    const d = down;
    down = null;
    rubber.hidden = true;
    if (d.dragging) onBox(d, p);
    else onClick(d, d.button);
  });
}

/** The keys, on the window: `actions.undo()` and `actions.reset()`. Returns the unbinding. */
export function keyInput(actions) {
  const onKey = (e) => {
    const action = keyAction(e);
    if (!action) return;
    if (action === 'undo') e.preventDefault();
    actions[action]();
  };
  window.addEventListener('keydown', onKey);
  return () => window.removeEventListener('keydown', onKey);
}
