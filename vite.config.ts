import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The renderer, built once into dist/renderer and served by core (browser mode) or loaded from
// disk by Electron; relative asset URLs so both work. Everything is bundled: nothing is fetched.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    chunkSizeWarningLimit: 8000,
    sourcemap: false,
  },
  worker: { format: 'es' },
});
