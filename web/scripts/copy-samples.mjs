// Copies the sample photos (../shared/fixtures/images: Meta's segment-anything notebook
// photos, Apache-2.0) into public/samples/, so a first visit can try Gen3D in one click.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, '../../shared/fixtures/images');
const to = join(root, 'public/samples');
mkdirSync(to, { recursive: true });
for (const f of ['truck.jpg', 'dog.jpg', 'groceries.jpg']) {
  if (!existsSync(join(from, f))) throw new Error(`sample photo ${join(from, f)} is missing (the repository's ../shared/fixtures)`);
  copyFileSync(join(from, f), join(to, f));
}
console.log(`sample photos copied to ${to}`);
