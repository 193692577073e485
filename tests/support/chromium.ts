import type { LaunchOptions } from "@playwright/test";

/**
 * Debian's Chromium, as root and without background traffic: Playwright cannot download its
 * own browser here. Shared by the end-to-end and the attack suites.
 */
export const CHROMIUM_LAUNCH_OPTIONS: LaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
};
