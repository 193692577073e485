import { defineConfig } from "@playwright/test";
import { CHROMIUM_LAUNCH_OPTIONS } from "./tests/support/chromium";
import { E2E_TARGETS } from "./tests/e2e/environment";

export default defineConfig({
  testDir: "tests/e2e",
  testMatch: "**/*.spec.ts",
  globalSetup: "./tests/e2e/global-setup.ts",
  // Specs share two servers and their databases; one worker keeps the runs deterministic.
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    trace: "retain-on-failure",
    launchOptions: CHROMIUM_LAUNCH_OPTIONS,
  },
  projects: (Object.keys(E2E_TARGETS) as (keyof typeof E2E_TARGETS)[]).map((name) => ({
    name,
    use: { baseURL: `http://localhost:${E2E_TARGETS[name].port}` },
  })),
});
