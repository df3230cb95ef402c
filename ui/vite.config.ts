import { defineConfig } from "vite";

// Tauri loads ui/dist in release and this dev server (devUrl) in `tauri dev`.
export default defineConfig({
  clearScreen: false,
  server: { port: 1420, strictPort: true, host: "127.0.0.1" },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
