// Step 1: choose or drop a photo, check it here (type, size, pixels) before anything is
// sent, then create a session and upload with a progress bar.
import { createSession, upload, uploadTarget } from '../api.js';
import { bytes, h, progressBar } from '../ui.js';

// The API's limits (docs/api.md): checked here first so a user learns at once.
export const LIMITS = { maxBytes: 40 * 1024 * 1024, maxSide: 12000, maxPixels: 48_000_000 };
const TYPES = ['image/jpeg', 'image/png', 'image/webp'];
const SAMPLES = [
  { file: 'truck.jpg', label: 'truck' },
  { file: 'dog.jpg', label: 'dog' },
  { file: 'groceries.jpg', label: 'groceries' },
];

/** Why `file` cannot be uploaded, or null. Decodes it to check its pixel size. */
export async function checkPhoto(file) {
  if (!TYPES.includes(file.type)) {
    return `“${file.name}” is not a photo Gen3D can read (${file.type || 'unknown type'}). Choose a JPEG, PNG or WebP image.`;
  }
  if (file.size === 0) return `“${file.name}” is empty.`;
  if (file.size > LIMITS.maxBytes) return `“${file.name}” is ${bytes(file.size)}; the limit is ${bytes(LIMITS.maxBytes)}. Export a smaller JPEG and try again.`;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return `“${file.name}” could not be decoded: the file is damaged or not really a ${file.type.split('/')[1].toUpperCase()}.`;
  }
  const { width, height } = bitmap;
  bitmap.close();
  if (Math.max(width, height) > LIMITS.maxSide || width * height > LIMITS.maxPixels) {
    return `“${file.name}” is ${width}×${height} pixels; the limit is ${LIMITS.maxSide} pixels a side and ${LIMITS.maxPixels / 1e6} megapixels. Resize it and try again.`;
  }
  return null;
}

/** A drop zone + picker; `onSession(id)` once a photo is uploaded. `session` reuses one. */
export function uploader({ onSession, session = null }) {
  const input = h('input', { type: 'file', accept: TYPES.join(','), testid: 'photo-input', hidden: true });
  const error = h('p.error', { testid: 'upload-error', role: 'alert' });
  const bar = progressBar('upload-progress');
  bar.hidden = true;
  const zone = h(
    'div.dropzone',
    { testid: 'dropzone', tabindex: '0', onclick: () => input.click(), onkeydown: (e) => (e.key === 'Enter' || e.key === ' ') && input.click() },
    h('strong', { text: 'Drop a photo here, or click to choose one' }),
    h('span.muted', { text: 'JPEG, PNG or WebP, up to 40 MB. One object per click; several objects per photo.' }),
  );
  zone.addEventListener('dragover', (e) => (e.preventDefault(), zone.classList.add('over')));
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer.files[0]) send(e.dataTransfer.files[0]);
  });
  input.addEventListener('change', () => input.files[0] && send(input.files[0]));

  async function send(file) {
    error.textContent = '';
    const problem = await checkPhoto(file);
    if (problem) {
      error.textContent = problem;
      input.value = '';
      return;
    }
    zone.classList.add('busy');
    bar.hidden = false;
    bar.set(0, `Uploading ${file.name}…`);
    try {
      const s = session ?? (await createSession());
      await upload(await uploadTarget(s.id, file), file, (done, total) => bar.set(done / total, `Uploading ${file.name}: ${bytes(done)} of ${bytes(total)}`));
      markUploaded(s.id);
      bar.set(1, 'Uploaded');
      onSession(s.id);
    } catch (err) {
      error.textContent = `${err.message} ${err.status === 0 ? '' : 'Choose another photo or try again.'}`.trim();
      bar.hidden = true;
    } finally {
      zone.classList.remove('busy');
      input.value = '';
    }
  }
  // A first visit can try Gen3D at once on a sample photo.
  const samples = h(
    'div.samples',
    { testid: 'samples' },
    h('span.muted', { text: 'Or try a sample:' }),
    SAMPLES.map(({ file, label }) =>
      h(
        'button.sample',
        {
          testid: `sample-${file.split('.')[0]}`,
          title: `Try Gen3D on the ${label} photo`,
          onclick: async () => {
            try {
              const blob = await (await fetch(`/samples/${file}`)).blob();
              send(new File([blob], file, { type: 'image/jpeg' }));
            } catch (err) {
              error.textContent = `The sample could not be loaded: ${err.message}`;
            }
          },
        },
        h('img', { src: `/samples/${file}`, alt: label, loading: 'lazy' }),
        h('span', { text: label }),
      ),
    ),
    h('span.muted.small', { text: 'Sample photos: Meta’s Segment Anything notebooks (Apache-2.0).' }),
  );
  return h('section.card', { testid: 'uploader' }, h('h2', { text: 'New photo' }), zone, samples, input, bar, error);
}

const UPLOADED = 'gen3d.uploaded.';
/** How long after an upload a session may still read `created`: a photo PUT straight to
 * storage (S3 in AWS) is recorded when storage's event reaches the embedding service. */
export const UPLOAD_GRACE_MS = 2 * 60 * 1000;

function markUploaded(id) {
  try {
    sessionStorage.setItem(UPLOADED + id, String(Date.now()));
  } catch {
    /* storage full or off: the workspace then says the photo is missing, and lets the user choose it again */
  }
}

/** Whether this tab uploaded the session's photo within the grace period. */
export function recentlyUploaded(id) {
  const at = Number(sessionStorage.getItem(UPLOADED + id) ?? 0);
  return at > 0 && Date.now() - at < UPLOAD_GRACE_MS;
}
