// node --test: the mesh options the selector submits (web/src/mesh-options.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PRESETS, TRIANGLES, meshOptions } from '../../src/mesh-options.js';

const fields = (preset, target) => ({ preset, target, method: 'poisson', format: 'glb' });

test('each preset sends its triangles and the extras the API takes', () => {
  for (const [key, p] of Object.entries(PRESETS)) {
    const { options, error } = meshOptions(fields(key, String(p.target_triangles)));
    assert.equal(error, undefined, key);
    assert.equal(options.target_triangles, String(p.target_triangles));
    assert.equal(options.remove_outliers, p.remove_outliers ? 'true' : undefined, key);
    assert.equal(options.max_points, p.max_points ? String(p.max_points) : undefined, key);
  }
});

test('custom fields are sent as typed, with no preset extras', () => {
  const { options } = meshOptions({ preset: 'custom', target: '1000', method: 'ball_pivoting', format: 'stl' });
  assert.deepEqual(options, { target_triangles: '1000', method: 'ball_pivoting', format: 'stl' });
});

test('the triangle count must be a whole number in the API range', () => {
  for (const bad of ['', '999', '2000001', '1500.5', 'abc', '-5000', '4294968296']) {
    assert.match(meshOptions(fields('custom', bad)).error ?? '', /Target triangles must be a whole number/, bad);
  }
  for (const good of [String(TRIANGLES.min), String(TRIANGLES.max), '50000']) {
    assert.equal(meshOptions(fields('custom', good)).error, undefined, good);
  }
});
