import { migrationsApplied, pingDatabase } from "@/db";

export type Readiness = {
  ready: boolean;
  checks: { database: "ok" | "unavailable" | "not checked"; migrations: "applied" | "pending" | "unknown"; draining: boolean };
};

const CHECK_DEADLINE_MS = 2_000;

function withinDeadline<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_DEADLINE_MS} ms`)), CHECK_DEADLINE_MS);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Ready to take traffic: the database answers within 2 s, every migration is applied, and the
 * server is not draining for a shutdown. A draining server answers not ready at once, without
 * asking the database.
 */
export async function checkReadiness({ draining }: { draining: boolean }): Promise<Readiness> {
  if (draining) return { ready: false, checks: { database: "not checked", migrations: "unknown", draining } };
  // Anyone may ask, as often as they like: one check at a time, and its answer kept for a
  // second, so a flood of probes costs the database at most two queries a second.
  const now = Date.now();
  if (recent && now - recent.at < ANSWER_KEPT_MS) return recent.readiness;
  checking ??= checkDatabase()
    .then((readiness) => {
      recent = { at: Date.now(), readiness };
      return readiness;
    })
    .finally(() => {
      checking = undefined;
    });
  return checking;
}

const ANSWER_KEPT_MS = 1_000;
let recent: { at: number; readiness: Readiness } | undefined;
let checking: Promise<Readiness> | undefined;

async function checkDatabase(): Promise<Readiness> {
  let database: Readiness["checks"]["database"] = "ok";
  let migrations: Readiness["checks"]["migrations"] = "unknown";
  try {
    await withinDeadline(pingDatabase());
    migrations = (await withinDeadline(migrationsApplied())) ? "applied" : "pending";
  } catch {
    database = "unavailable";
  }
  return { ready: database === "ok" && migrations === "applied", checks: { database, migrations, draining: false } };
}
