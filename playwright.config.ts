import { defineConfig } from "@playwright/test";
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
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: (Object.keys(E2E_TARGETS) as (keyof typeof E2E_TARGETS)[]).map((name) => ({
    name,
    use: { baseURL: `http://localhost:${E2E_TARGETS[name].port}` },
  })),
});
