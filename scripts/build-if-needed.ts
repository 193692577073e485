import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const BUILD_INPUTS = [
  "app",
  "components",
  "lib",
  "db",
  "types",
  "middleware.ts",
  "next.config.js",
  "package-lock.json",
  "postcss.config.mjs",
  "tsconfig.json",
];

function newestModification(entry: string): number {
  if (!fs.existsSync(entry)) return 0;
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs
    .readdirSync(entry)
    .reduce((newest, name) => Math.max(newest, newestModification(path.join(entry, name))), stat.mtimeMs);
}

/** Runs `next build` when there is no production build or a source is newer than it. */
export function buildIfNeeded(root = process.cwd()): void {
  const buildId = path.join(root, ".next", "BUILD_ID");
  const builtAt = fs.existsSync(buildId) ? fs.statSync(buildId).mtimeMs : 0;
  const newestSource = Math.max(...BUILD_INPUTS.map((entry) => newestModification(path.join(root, entry))));
  if (builtAt > newestSource) return;
  console.log(builtAt ? "Sources changed since the last build; building…" : "No production build yet; building…");
  const result = spawnSync(process.execPath, [require.resolve("next/dist/bin/next", { paths: [root] }), "build"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NODE_ENV: "production" },
  });
  if (result.status !== 0) throw new Error("The production build failed (see above).");
}
