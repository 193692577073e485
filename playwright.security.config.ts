import { defineConfig } from "@playwright/test";
import { CHROMIUM_LAUNCH_OPTIONS } from "./tests/support/chromium";

// The attack suite (`npm run test:security`): real HTTP against production servers on
// PostgreSQL, plus Chromium where only a browser can tell (script execution, the login form).
export default defineConfig({
  testDir: "tests/security",
  testMatch: "**/*.spec.ts",
  globalSetup: "./tests/security/global-setup.ts",
  // One worker: the specs share servers, and the timing spec needs a quiet machine.
  workers: 1,
  fullyParallel: false,
  timeout: 240_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    trace: "retain-on-failure",
    launchOptions: CHROMIUM_LAUNCH_OPTIONS,
  },
});
