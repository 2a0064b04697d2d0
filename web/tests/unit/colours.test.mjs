// node --test: object colours stand out from the pixels under the object.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PALETTE, contrasting, distance, meanUnder } from '../../src/colours.js';

const image = (w, h, f) => {
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([...f(i % w, Math.floor(i / w)), 255], i * 4);
  return rgba;
};

test('the mean is taken under the mask only', () => {
  // Left half red, right half blue; the mask covers the left half.
  const rgba = image(10, 4, (x) => (x < 5 ? [220, 20, 30] : [10, 40, 230]));
  const bits = Uint8Array.from({ length: 40 }, (_, i) => (i % 10 < 5 ? 1 : 0));
  assert.deepEqual(meanUnder(rgba, bits), [220, 20, 30]);
  assert.equal(meanUnder(rgba, new Uint8Array(40)), null);
});

test('a red object is not tinted red, a blue one not blue', () => {
  for (const object of [[220, 20, 30], [30, 144, 255], [46, 204, 113], [250, 200, 10]]) {
    const chosen = contrasting(object);
    const nearest = Math.min(...PALETTE.map((c) => distance(c, object)));
    assert.ok(distance(chosen, object) > 3 * nearest, `${object} -> ${chosen}`);
    assert.ok(distance(chosen, object) > 300, `${object} -> ${chosen}: ${distance(chosen, object)}`);
  }
});

test('colours of earlier objects are avoided while others stand out well enough', () => {
  const red = [220, 20, 30];
  const first = contrasting(red);
  const second = contrasting(red, [first]);
  assert.notDeepEqual(second, first);
  assert.ok(distance(second, red) > 300);
  // Unknown pixels: the first colour nobody has.
  assert.deepEqual(contrasting(null), PALETTE[0]);
  assert.deepEqual(contrasting(null, [PALETTE[0]]), PALETTE[1]);
});
