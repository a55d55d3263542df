// Shared pieces of the browser tests: Debian's chromium through playwright-core, the gateway's
// API for setup checks, axe-core scans and screenshots.
import { createRequire } from "node:module";
import { mkdirSync, readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);

export const BASE_URL = (process.env.BASE_URL ?? "http://localhost:3000").replace(/\/$/, "");
export const SHOTS = new URL("./screenshots/", import.meta.url).pathname;
export const WIDE = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** Headless Debian chromium, a fresh profile, none of its background traffic. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * A browser context (one person) whose page errors, failed scripts and CSP violations are
 * collected in `problems`, so a test can assert the app ran cleanly.
 */
export async function person(browser, viewport = WIDE) {
  const context = await browser.newContext({ viewport, baseURL: BASE_URL, locale: "en-IN", timezoneId: "Asia/Kolkata" });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    const text = message.text();
    if (message.type() === "error" && /Content Security Policy|Refused to/.test(text)) problems.push(`console: ${text}`);
  });
  page.on("response", async (response) => {
    const url = response.url();
    if (!url.includes("/assets/")) return;
    if (response.status() >= 400) problems.push(`asset ${url} answered ${response.status()}`);
    // The gateway's caching: hashed assets for a year (index.html revalidates: see the Rust tests).
    const cache = (await response.allHeaders())["cache-control"];
    if (response.status() === 200 && cache !== "public, max-age=31536000, immutable") {
      problems.push(`asset ${url} has Cache-Control ${cache}`);
    }
  });
  return { context, page, problems };
}

/** JSON from the gateway (setup and cross-checks only; the tests act through the browser). */
export async function api(path, { method = "GET", body, token } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${BASE_URL}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return data;
}

/** Polls `check` until it returns something truthy, or fails with `what` after `ms`. */
export async function eventually(what, check, ms = 30_000, every = 250) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * axe-core over the whole page (WCAG 2.x A/AA rules and best practices); returns the serious
 * and critical violations as readable lines. Injected through the DevTools protocol, so the
 * page's own Content-Security-Policy stays on.
 */
export async function axe(page) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  });
  return result
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.join(", ")})`);
}

/** Pixels the page is wider than a 360 px phone (0 when nothing but the seat map scrolls sideways). */
export async function overflowAt360(page) {
  const original = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 740 });
  await page.waitForTimeout(150);
  const extra = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (original) await page.setViewportSize(original);
  return extra;
}

/** Full-page screenshots at desktop and phone widths, under e2e/screenshots/ (git-ignored). */
export async function screenshots(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  const original = page.viewportSize();
  for (const [label, size] of [["1280", WIDE], ["390", PHONE]]) {
    await page.setViewportSize(size);
    await page.waitForTimeout(150);
    await page.screenshot({ path: `${SHOTS}${name}-${label}.png`, fullPage: true });
  }
  if (original) await page.setViewportSize(original);
}

/** Presses Tab until `predicate(activeElement)` holds (keyboard only), at most `max` times. */
export async function tabTo(page, describe, predicate, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(predicate)) return;
  }
  throw new Error(`Tab never reached ${describe}`);
}
