// Print the gzipped size of what the first page loads: the entry chunk and the chunks it
// imports statically (Vite's manifest), and fail above the budget (BUDGET_KB, default 60).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const dist = resolve(dirname(fileURLToPath(import.meta.url)), "../dist");
const manifest = JSON.parse(readFileSync(resolve(dist, ".vite/manifest.json"), "utf8"));
const budget = Number(process.env.BUDGET_KB || 60) * 1024;

const entries = Object.keys(manifest).filter((key) => manifest[key].isEntry);
const seen = new Set();
function walk(key) {
  if (seen.has(key)) return;
  seen.add(key);
  for (const dep of manifest[key].imports || []) walk(dep);
}
entries.forEach(walk);

let total = 0;
for (const key of seen) {
  const file = manifest[key].file;
  const bytes = readFileSync(resolve(dist, file));
  const gz = gzipSync(bytes, { level: 9 }).length;
  total += gz;
  console.log(`  ${file}: ${(bytes.length / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped`);
}
const lazy = Object.values(manifest).filter((m) => m.isDynamicEntry).map((m) => m.file);
console.log(`first-page JavaScript: ${(total / 1024).toFixed(1)} KB gzipped ` +
            `(budget ${(budget / 1024).toFixed(0)} KB); loaded later: ${lazy.join(", ") || "none"}`);
if (total > budget) {
  console.error("size: the first page's JavaScript is over budget");
  process.exit(1);
}
