import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The web app (docs/web-app.md): built into web/dist, served by the API under /app. Asset names carry
// their content hash, which is what lets the API cache them as immutable.
export default defineConfig({
  root: import.meta.dirname,
  base: '/app/',
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: true,
    chunkSizeWarningLimit: 400,
  },
});
