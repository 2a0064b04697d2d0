import { defineConfig } from 'vite';

// `gen3d serve` serves dist/ and the API on one origin; `npm run dev` proxies the API
// to a running `gen3d serve` on :8080 and sends the isolation headers wasm threads need.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Spark (the splat renderer, 2.5 MB) is a chunk of its own, loaded when a viewer opens.
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2600 },
  worker: { format: 'es' },
  server: { headers: isolation, proxy: { '/v1': 'http://127.0.0.1:8080', '/healthz': 'http://127.0.0.1:8080' } },
  preview: { headers: isolation },
});
