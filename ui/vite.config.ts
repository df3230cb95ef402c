import { defineConfig } from "vite";

// Tauri loads ui/dist in release and this dev server (devUrl) in `tauri dev`.
// Two pages: the accounts window (index.html) and the consent dialog
// (consent.html), each with only its own code.
export default defineConfig({
  clearScreen: false,
  server: { port: 1420, strictPort: true, host: "127.0.0.1" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: { input: { index: "index.html", consent: "consent.html" } },
  },
});
