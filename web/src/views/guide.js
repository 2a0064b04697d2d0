// The in-app user guide (the same text as docs/user-guide.md, without the screenshots).
import { h } from '../ui.js';

const SECTIONS = [
  ['1. Add a photo', 'On “My photos”, drop a JPEG, PNG or WebP photo (up to 40 MB, 12 000 pixels a side, 48 megapixels) or click to choose one. The photo is checked in your browser before it is sent, and the upload shows its progress. Gen3D then analyses the photo once (the SAM 3 image encoder) and sends the result to your browser.'],
  ['2. Select an object', 'Click the object. The mask appears at once: it is computed in your browser. Left click adds an include point, right click (or the Exclude mode) an exclude point; drag to draw a box around the object. Click a marker to remove its point; Undo (Ctrl+Z) and Reset (Esc) are in the toolbar. Before your first click, hovering previews what a click would select. Three candidate masks are offered: pick another if the first is not what you meant. The cut-out shows exactly what will be reconstructed. On a phone or tablet: tap to include, switch to Exclude and tap to remove, drag to draw a box, pinch to zoom the photo; the Reconstruct button stays at the bottom of the screen.'],
  ['3. Reconstruct', 'Press “Reconstruct this object”. The object gets its own colour and card, which shows its stage: queued, reconstructing (SAM 3D Objects), meshing, done. You can select and submit more objects from the same photo meanwhile, leave the page, or close the tab: the work continues on the server, you receive an email when an object is done, and “My photos” brings you back to it. If a stage fails, the card says which and why, and “Try again” resubmits the same selection. “Quality” picks a preset (Fast, Balanced, Quality); “Generate again” makes a variant with a new seed; Delete removes an object, or a photo from “My photos”, with all its files.'],
  ['4. View and download', '“View in 3D” opens the object: its Gaussian splats and its mesh in one scene, with a toggle between them, first seen from the photo’s camera. Drag to orbit, scroll (or pinch) to zoom; Reset view, Auto-rotate, Fullscreen and the background are below the view. Download the mesh as GLB (web, game engines, Blender), OBJ (vertex colours), PLY or STL (slicers), and the splat as PLY.'],
  ['All objects together', '“View all in one scene” shows every done object of the photo at once, each where the photo’s camera saw it; “Scene GLB” downloads them as one GLB with one node per object.'],
  ['Names, pictures and colours', '“Rename” next to the photo’s title and on each object’s card names them (Enter saves, Escape cancels; empty goes back to the default). Downloads are named after both. Each card shows a picture of the result, and My photos shows each photo’s thumbnail. Each object’s colour is the one that stands out most from its pixels.'],
  ['Mesh options', 'Target triangles (default 50 000) sets how light the mesh is. Poisson gives a closed (watertight) surface; ball pivoting keeps only what the splat covers. The primary format is the one the email links to; all formats are always available.'],
  ['When something goes wrong', 'A file that is not a photo, too large, or damaged is refused before upload, with the reason. If the connection drops, the page says so and retries; your objects keep processing. If your sign-in expires, you are asked to sign in again and come back to the same page.'],
];

export function renderGuide(root) {
  root.replaceChildren(
    h(
      'article.card.guide',
      { testid: 'guide' },
      h('h1', { text: 'How to use Gen3D' }),
      h('p', { text: 'Gen3D turns an object in a photo into a 3D model in four steps.' }),
      SECTIONS.map(([title, text]) => [h('h2', { text: title }), h('p', { text })]),
    ),
  );
}
