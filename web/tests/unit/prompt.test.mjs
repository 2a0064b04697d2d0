// node --test: the selection's prompt (web/src/prompt.js), apart from the view.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boxBetween, labelFor, promptState } from '../../src/prompt.js';

test('right clicks and the Exclude mode exclude', () => {
  assert.equal(labelFor(0, 'include'), 'include');
  assert.equal(labelFor(2, 'include'), 'exclude');
  assert.equal(labelFor(0, 'exclude'), 'exclude');
});

test('a drag spans a box whichever way it went', () => {
  assert.deepEqual(boxBetween({ x: 30, y: 5 }, { x: 10, y: 25 }), { x0: 10, y0: 5, x1: 30, y1: 25 });
});

test('excludes alone select nothing; an include or a box does', () => {
  const p = promptState();
  assert.ok(p.empty && !p.decodable);
  p.add(5, 5, 'exclude');
  assert.ok(!p.empty && !p.decodable);
  p.setBox({ x0: 0, y0: 0, x1: 9, y1: 9 });
  assert.ok(p.decodable);
  p.clearBox();
  p.add(1, 2, 'include');
  assert.ok(p.decodable);
  assert.deepEqual(p.json(), { points: [{ x: 5, y: 5, label: 'exclude' }, { x: 1, y: 2, label: 'include' }] });
});

test('undo walks back every change, reset included, and stops at the start', () => {
  const p = promptState();
  p.add(1, 1, 'include');
  p.add(2, 2, 'exclude');
  p.setBox({ x0: 0, y0: 0, x1: 4, y1: 4 });
  p.remove(0);
  p.reset();
  assert.ok(p.empty);
  const seen = [];
  while (p.undo()) seen.push(JSON.stringify(p.json()));
  assert.deepEqual(seen, [
    '{"points":[{"x":2,"y":2,"label":"exclude"}],"box":{"x0":0,"y0":0,"x1":4,"y1":4}}',
    '{"points":[{"x":1,"y":1,"label":"include"},{"x":2,"y":2,"label":"exclude"}],"box":{"x0":0,"y0":0,"x1":4,"y1":4}}',
    '{"points":[{"x":1,"y":1,"label":"include"},{"x":2,"y":2,"label":"exclude"}]}',
    '{"points":[{"x":1,"y":1,"label":"include"}]}',
    '{"points":[]}',
  ]);
  assert.equal(p.undo(), false);
});

test('an undone state is not changed by later edits', () => {
  const p = promptState();
  p.add(1, 1, 'include');
  p.add(2, 2, 'include');
  p.undo();
  p.add(3, 3, 'include');
  p.undo();
  assert.deepEqual(p.json(), { points: [{ x: 1, y: 1, label: 'include' }] });
});

test('clear forgets the history (a submitted selection is not undone into)', () => {
  const p = promptState();
  p.add(1, 1, 'include');
  p.clear();
  assert.ok(p.empty);
  assert.equal(p.undo(), false);
});
