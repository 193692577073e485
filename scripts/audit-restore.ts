import { createPublicKey } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { configuredTarget, openDatabase } from "@/db";
import { configuredSigningKey, parsePublicKey } from "@/lib/audit/checkpoints";
import { restoreArchives, RestoreRefused } from "@/lib/audit/restore";
import { runCli, UsageError } from "./cli";

const USAGE =
  "Usage: npm run audit:restore -- --into postgres://…/scratch|DIR [--public-key FILE]… ARCHIVE…\n" +
  "  Verifies retention archives and loads their rows into restored_account_logs of a scratch database\n" +
  "  (a PostgreSQL URL, or a folder for an embedded one), never into the live log.";

runCli(
  async () => {
    let parsed;
    try {
      parsed = parseArgs({ allowPositionals: true, options: { into: { type: "string" }, "public-key": { type: "string", multiple: true, default: [] } } });
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\n${USAGE}`);
    }
    const { values: options, positionals: files } = parsed;
    if (!options.into) throw new UsageError(`--into is required.\n${USAGE}`);
    if (files.length === 0) throw new UsageError(`Name at least one archive.\n${USAGE}`);
    for (const file of [...files, ...options["public-key"]]) if (!fs.existsSync(file)) throw new UsageError(`No file ${file}.`);
    const publicKeys = options["public-key"].map((file) => parsePublicKey(fs.readFileSync(file, "utf8")));
    const signing = configuredSigningKey();
    if (signing) publicKeys.push(createPublicKey(signing.key));
    const target = /^postgres(ql)?:\/\//.test(options.into) ? { kind: "postgres" as const, url: options.into } : { kind: "pglite" as const, dir: options.into };
    const live = configuredTarget();
    if ((live.kind === "postgres" && target.kind === "postgres" && live.url === target.url) || (live.kind === "pglite" && target.kind === "pglite" && path.resolve(live.dir) === path.resolve(target.dir))) {
      throw new UsageError("--into names the app's own database: restore into a scratch one.");
    }
    const scratch = await openDatabase(target);
    try {
      const restored = await restoreArchives(scratch.db, files, publicKeys);
      console.log(`Restored ${restored.rows} rows from ${restored.archives} verified archives into restored_account_logs.`);
    } catch (error) {
      if (error instanceof RestoreRefused) throw new UsageError(error.message);
      throw error;
    } finally {
      await scratch.close();
    }
  },
  { database: false },
);
