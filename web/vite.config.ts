import { defineConfig } from 'vite';

// `npm run dev` proxies the API to a running cityioc (CITYIOC_URL, default http://127.0.0.1:8080).
const target = process.env.CITYIOC_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    target: 'es2020',
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    manifest: true,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: {
      '/api/v1/stream': { target, ws: true },
      '/api': target,
      '/ngsi-ld': target,
      '/open311': target,
      '/healthz': target,
    },
  },
});
