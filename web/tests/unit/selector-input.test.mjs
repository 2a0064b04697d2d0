// node --test: the selector's gesture and key rules (web/src/views/selector-input.js),
// apart from the DOM events that feed them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DRAG_PX, isDrag, keyAction, photoPoint, rubberBand } from '../../src/views/selector-input.js';

// A 1000×750 photo shown at half size, 100 px from the left and 50 from the top.
const rect = { left: 100, top: 50, width: 500, height: 375 };

test('a pointer maps to photo pixels, clamped inside the photo', () => {
  assert.deepEqual(photoPoint({ clientX: 350, clientY: 237.5 }, rect, 1000, 750), { x: 500, y: 375, cx: 350, cy: 237.5 });
  const outside = photoPoint({ clientX: 0, clientY: 1000 }, rect, 1000, 750);
  assert.deepEqual([outside.x, outside.y], [0, 749.5]);
});

test('a press becomes a drag only past the threshold', () => {
  const down = { cx: 10, cy: 10 };
  assert.ok(!isDrag(down, { cx: 10 + DRAG_PX, cy: 10 }));
  assert.ok(isDrag(down, { cx: 10 + DRAG_PX, cy: 11 }));
});

test('the rubber band spans the drag whichever way it went', () => {
  assert.deepEqual(rubberBand({ cx: 300, cy: 200 }, { cx: 150, cy: 80 }, rect), { left: '50px', top: '30px', width: '150px', height: '120px' });
});

test('keys: Ctrl or Cmd+Z undoes, Escape resets, nothing while typing in a field', () => {
  const on = (target) => ({ closest: (sel) => (sel.split(',').includes(target) ? {} : null) });
  assert.equal(keyAction({ key: 'z', ctrlKey: true, target: on('div') }), 'undo');
  assert.equal(keyAction({ key: 'z', metaKey: true, target: on('div') }), 'undo');
  assert.equal(keyAction({ key: 'z', target: on('div') }), null);
  assert.equal(keyAction({ key: 'Escape', target: on('div') }), 'reset');
  assert.equal(keyAction({ key: 'Escape', target: on('input') }), null);
  assert.equal(keyAction({ key: 'z', ctrlKey: true, target: on('textarea') }), null);
  // The window itself as the target has no `closest`.
  assert.equal(keyAction({ key: 'Escape', target: {} }), 'reset');
});
