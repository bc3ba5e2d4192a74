// Headless Debian Chromium driven by playwright-core, shared by the browser suites (gRPC-Web and
// Connect from connect-web, the live dashboard). A missing browser skips visibly; with CI=true
// it fails (.ci/run installs Debian's chromium).
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

/** Why the browser suites cannot run here (undefined when they can); throws with CI=true. */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `${CHROMIUM} not found (Debian package chromium)`;
  if (process.env["CI"] === "true") throw new Error(`${reason} — required when CI=true`);
  return reason;
}

/**
 * Launches headless Chromium (playwright gives it a throwaway profile). The flags keep it off
 * the network: this machine refuses outside connections, and background fetches only add noise.
 */
export async function launchChromium(): Promise<Browser & { cleanup(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return Object.assign(browser, {
    async cleanup() {
      await browser.close();
    },
  });
}
