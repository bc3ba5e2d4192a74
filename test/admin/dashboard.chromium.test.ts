// The dashboard in headless Chromium: known traffic (with failures) shows up as exact numbers
// on the page, the page updates from its event stream without reloading, and the screenshot of
// it is kept as docs/dashboard.png (the README shows it).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { chromiumMissing, launchChromium } from "../browser/chromium.js";
import { REPO_ROOT } from "../server/helpers.js";
import { greeterServer, SAY_HELLO, SAY_HELLO_STREAM, traffic, type Fixture } from "./helpers.js";

const missing = chromiumMissing();
const T = { timeout: 90_000 };

/** The counts a method's row shows, by status code (from data-value). */
function rowCodes(page: Page, method: string): Promise<Record<string, number>> {
  return page.$$eval(`tr[data-method="${method}"] td[data-code]`, (tds) =>
    Object.fromEntries(tds.map((td) => [td.getAttribute("data-code")!, Number(td.getAttribute("data-value"))])),
  );
}

/** A number shown in the element with this id (its data-value). */
async function value(page: Page, id: string): Promise<string> {
  return page.$eval(`#${id}`, (el) => el.getAttribute("data-value") ?? "");
}

/** Waits (bounded) until the method's row shows `count` calls with `code`. */
async function waitForCount(page: Page, method: string, code: string, count: number): Promise<void> {
  await page.waitForSelector(`tr[data-method="${method}"] td[data-code="${code}"][data-value="${count}"]`, { timeout: 20_000 });
}

describe("the dashboard in Chromium", { skip: missing }, () => {
  let browser: Browser & { cleanup(): Promise<void> };
  let f: Fixture;
  let url: string;

  before(async () => {
    browser = await launchChromium();
    f = await greeterServer({ admin: { port: 0, intervalMs: 250 } });
    url = (await f.server.admin!).url;
  });

  after(async () => {
    await f?.close();
    await browser?.cleanup();
  });

  it("shows exactly the calls made per method and code, connections, latency; screenshot to docs/dashboard.png", T, async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      const response = await page.goto(url);
      assert.equal(response?.status(), 200);
      await page.waitForSelector("#live-status.on", { timeout: 20_000 });
      await traffic(f.client, { ok: 12, notFound: 3, invalid: 2 });
      await waitForCount(page, SAY_HELLO, "OK", 12);
      await waitForCount(page, SAY_HELLO_STREAM, "INVALID_ARGUMENT", 2);
      await waitForCount(page, SAY_HELLO, "NOT_FOUND", 3);
      // Every code column is on every row: zeros where a method had none.
      assert.deepEqual(await rowCodes(page, SAY_HELLO), { OK: 12, INVALID_ARGUMENT: 0, NOT_FOUND: 3 });
      assert.deepEqual(await rowCodes(page, SAY_HELLO_STREAM), { OK: 0, INVALID_ARGUMENT: 2, NOT_FOUND: 0 });
      assert.equal(await page.$eval(`tr[data-method="${SAY_HELLO}"] td[data-field="calls"]`, (td) => td.textContent), "15");
      assert.equal(await value(page, "calls-total"), "17");
      assert.equal(await value(page, "calls-errors"), "5");
      assert.ok(Number(await value(page, "connections")) >= 1);
      assert.ok(Number(await value(page, "sessions")) >= 1);
      const p50 = Number(await value(page, "latency-p50"));
      const p99 = Number(await value(page, "latency-p99"));
      assert.ok(p50 > 0 && p99 >= p50, `p50 ${p50}, p99 ${p99}`);
      assert.match((await page.textContent("#latency-p50"))!, /^\d+(\.\d+)? (µs|ms|s)$/);
      assert.ok(Number(await value(page, "calls-rate")) > 0);
      assert.ok(Number(await value(page, "mem-rss")) > 0);
      assert.notEqual(await value(page, "loop-p99"), "");
      assert.equal(await value(page, "server-state"), "serving");
      assert.equal(await value(page, "health-status"), "SERVING");
      const png = await page.screenshot({ fullPage: false });
      writeFileSync(path.join(REPO_ROOT, "docs", "dashboard.png"), png);
    } finally {
      await page.close();
    }
  });

  it("updates live from the event stream, without reloading the page", T, async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await page.goto(url);
      await page.waitForSelector("#live-status.on", { timeout: 20_000 });
      // A mark only this page load has: a reload would lose it.
      await page.evaluate('window.loadMark = "first-load"');
      const before = Number(await value(page, "calls-total"));
      const seq = Number(await value(page, "seq"));
      await traffic(f.client, { ok: 4 });
      await page.waitForSelector(`#calls-total[data-value="${before + 4}"]`, { timeout: 20_000 });
      assert.ok(Number(await value(page, "seq")) > seq);
      assert.equal(await page.evaluate("window.loadMark"), "first-load");
    } finally {
      await page.close();
    }
  });
});
