// node --test: names and download file names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { downloadName, objectName, sceneName, sessionName, slug } from '../../src/names.js';

test('defaults name photos by size and objects by place', () => {
  assert.equal(sessionName({ image: { width: 800, height: 534 } }), 'Photo 800×534');
  assert.equal(sessionName({ name: 'Kitchen', image: { width: 800, height: 534 } }), 'Kitchen');
  assert.equal(objectName({}, 1), 'Object 2');
  assert.equal(objectName({ name: 'Red mug' }, 1), 'Red mug');
});

test('download names come from both names and never collide across photos', () => {
  const o = { session: 'ses_ABCDEF123456', name: 'Tasse à café!' };
  assert.equal(downloadName({ name: 'My kitchen (2)' }, o, 0, 'mesh.glb'), 'gen3d-my-kitchen-2-tasse-à-café-mesh.glb');
  assert.equal(downloadName({}, { session: 'ses_ABCDEF123456' }, 2, 'splat.ply'), 'gen3d-123456-object-3-splat.ply');
  assert.equal(sceneName({ name: 'Kitchen' }, 'ses_x'), 'gen3d-kitchen-scene.glb');
  assert.equal(slug('///'), '');
  assert.equal(slug('x'.repeat(60)).length, 40);
});
