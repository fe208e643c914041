import { defineConfig } from 'vite';

// The console talks to `switchboard serve` (default :8080). In dev, Vite proxies the API, the
// runtime config and presigned media URLs there, so the SPA and the API share one origin.
const target = process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  server: {
    port: 5173,
    proxy: {
      '/api': target,
      '/config.json': target,
      '/files': target,
      '/healthz': target,
    },
  },
  build: { outDir: 'dist', sourcemap: true, chunkSizeWarningLimit: 1000 },
  test: {
    environment: 'happy-dom',
    include: ['test/**/*.test.{ts,tsx}'],
  },
} as any);
