import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: {
      "@": import.meta.dirname,
      // Tests call server modules directly; outside Next.js's server, `server-only` would throw.
      "server-only": `${import.meta.dirname}/node_modules/server-only/empty.js`,
    },
  },
  test: {
    // Lower scrypt cost keeps hundred-attempt races quick; production uses the OWASP value.
    env: { SCRYPT_LOG2_N: "14", NODE_ENV: "test" },
    projects: [
      { extends: true, test: { name: "unit", include: ["tests/unit/**/*.test.{ts,tsx}"] } },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          globalSetup: ["tests/integration/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Suites share one small machine and one PostgreSQL server.
          fileParallelism: false,
        },
      },
    ],
  },
});
