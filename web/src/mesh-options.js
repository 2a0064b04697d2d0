// The mesh options the selector submits with a mask, apart from the fields that show
// them: the quality presets and the query parameters of `POST …/objects` (docs/api.md).

/** Quality presets: mesh settings the API takes. */
export const PRESETS = {
  fast: { label: 'Fast (10 000 triangles, down-sampled)', target_triangles: 10_000, method: 'poisson', max_points: 20_000 },
  balanced: { label: 'Balanced (50 000 triangles)', target_triangles: 50_000, method: 'poisson' },
  quality: { label: 'Quality (150 000 triangles, outliers removed)', target_triangles: 150_000, method: 'poisson', remove_outliers: true },
};

/** The API's range for `target_triangles`. */
export const TRIANGLES = { min: 1000, max: 2_000_000 };

/**
 * The query parameters for a preset key (or 'custom') and the fields' values, as strings:
 * `{ options }`, or `{ error }` naming what the user must fix.
 */
export function meshOptions({ preset, target, method, format }) {
  const t = Number(target);
  if (!Number.isInteger(t) || t < TRIANGLES.min || t > TRIANGLES.max) {
    return { error: 'Target triangles must be a whole number from 1 000 to 2 000 000.' };
  }
  const options = { target_triangles: String(t), method, format };
  const p = PRESETS[preset];
  if (p?.remove_outliers) options.remove_outliers = 'true';
  if (p?.max_points) options.max_points = String(p.max_points);
  return { options };
}
