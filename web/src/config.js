// The deployment's settings, from `/config.json`: how to sign in ("local": Gen3D's own
// accounts; "cognito": the user pool's API, as in AWS), where the API is (`apiBase`,
// empty = this origin) and, optionally, the click decoder's ONNX file (`decoderUrl`;
// default: the API's `/v1/models/decoder.onnx`), and the same decoder split for the
// browser (`decoderSplit`: {prepare, click} paths; where a model directory has it, the
// page runs `prepare` once per photo and `click` per prompt). `gen3d serve` answers it; in AWS it is written next to the app
// from the stack's outputs (docs/operations.md).

export const config = { auth: 'local', apiBase: '' };

export async function loadConfig() {
  try {
    const res = await fetch('/config.json', { cache: 'no-cache' });
    if (res.ok) Object.assign(config, await res.json());
  } catch {
    /* no config: this origin, local accounts */
  }
  config.apiBase = (config.apiBase ?? '').replace(/\/$/, '');
  return config;
}
