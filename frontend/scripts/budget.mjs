// Bundle budget: the JavaScript the first page (the events list, `/`) loads — the entry script
// of dist/index.html and every module it preloads — gzipped, printed, and a failure above
// BUDGET_KB. Other pages are separate chunks loaded when visited.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 120;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const scripts = new Set();
for (const match of html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)) scripts.add(match[1]);
for (const match of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)) scripts.add(match[1]);
if (scripts.size === 0) {
  console.error("budget: no script found in dist/index.html");
  process.exit(1);
}
let total = 0;
for (const src of scripts) {
  const bytes = readFileSync(join(dist, src.replace(/^\//, "")));
  const gz = gzipSync(bytes, { level: 9 }).length;
  total += gz;
  console.log(`budget: ${src} ${(bytes.length / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped`);
}
const kb = total / 1024;
console.log(`budget: first page JavaScript ${kb.toFixed(1)} KB gzipped (budget ${BUDGET_KB} KB)`);
if (kb > BUDGET_KB) {
  console.error(`budget: FAILED — ${kb.toFixed(1)} KB is over the ${BUDGET_KB} KB budget`);
  process.exit(1);
}
