/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// The API `make api` serves; the dev server forwards /v1, /health and /openapi.json to it,
// so the browser talks to one origin (no CORS), as it will behind CloudFront.
const api = process.env.AUTOBUY_API_URL || "http://127.0.0.1:8000";

export default defineConfig({
  // Preact's JSX through esbuild: no Babel preset needed.
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: { manifest: true, target: "es2020", sourcemap: false },
  server: {
    proxy: {
      "/v1": api,
      "/health": api,
      "/openapi.json": api,
    },
  },
  test: {
    // Pure modules run in Node; component tests ask for jsdom in their first line.
    environment: "node",
    pool: "threads",
    include: ["src/**/*.test.{ts,tsx}"],
    env: { TZ: "UTC" },
    setupFiles: ["src/test-setup.ts"],
  },
});
