import { defineConfig } from "vite";

// Built with `vite build web` (root: this folder) into web/dist, which the server serves on the
// API's origin (src/http/console.ts). No inline script is emitted: the page's CSP forbids them.
export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 800,
  },
});
