// What photos and objects are called: the name the user gave, else "Photo W×H" and
// "Object N"; and download file names made of them. Pure functions.

/** A photo's name: the user's, else its size. */
export const sessionName = (s) => s.name ?? (s.image ? `Photo ${s.image.width}×${s.image.height}` : 'Photo (not uploaded)');

/** An object's name: the user's, else "Object N" (`i` its place from 0 on its photo). */
export const objectName = (o, i) => o.name ?? `Object ${i + 1}`;

/** Letters and digits (any script) kept, everything else one `-`, at most 40 characters. */
export function slug(text) {
  const s = String(text)
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  return [...s].slice(0, 40).join('').replace(/-+$/, '');
}

/** A download's file name, from the photo's and the object's names, so files from
 * different photos do not collide: `gen3d-kitchen-red-mug-mesh.glb`. Unnamed photos use
 * the end of their id (`gen3d-4kq2mz-object-1-mesh.glb`). */
export function downloadName(session, o, i, file) {
  const photo = photoSlug(session, o.session);
  const object = slug(objectName(o, i)) || `object-${i + 1}`;
  return `gen3d-${photo}-${object}-${file}`;
}

/** The photo's part of a file name: its name's slug, else the end of its id. */
export const photoSlug = (session, id) => slug(session?.name ?? '') || String(id).slice(-6).toLowerCase();

/** The scene's file name: `gen3d-kitchen-scene.glb`. */
export const sceneName = (session, id) => `gen3d-${photoSlug(session, id)}-scene.glb`;
