import fs from "node:fs";
import os from "node:os";

type LockHolder = { pid: number; hostname: string; startedAt: string; command: string };

export class DirectoryLockedError extends Error {
  override name = "DirectoryLockedError";
  constructor(
    readonly lockPath: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(
      (holder
        ? `The embedded database is in use by process ${holder.pid} (${holder.command}, since ${holder.startedAt}).\n`
        : `The embedded database is in use by another process (its lock file cannot be read yet).\n`) +
        `Only one process may open it at a time. Stop that process first (for example the running app), then retry.\n` +
        `If no such process exists, delete ${lockPath} and retry.`,
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(lockPath: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(fs.readFileSync(lockPath, "utf8")) as LockHolder;
    return Number.isInteger(holder.pid) ? holder : undefined;
  } catch {
    return undefined;
  }
}

function isStale(holder: LockHolder | undefined): boolean {
  if (!holder) return true;
  if (holder.hostname !== os.hostname()) return false;
  return holder.pid !== process.pid && !isAlive(holder.pid);
}

/** An unreadable lock younger than this may be mid-replacement: treat it as held. */
const UNREADABLE_LOCK_GRACE_MS = 10_000;

function isTakeable(lockPath: string, holder: LockHolder | undefined): boolean {
  if (holder) return isStale(holder);
  try {
    return Date.now() - fs.statSync(lockPath).mtimeMs > UNREADABLE_LOCK_GRACE_MS;
  } catch {
    return true;
  }
}

/**
 * Takes an exclusive lock file for this process. PGlite has no lock of its own, and two
 * processes on one data folder corrupt it, so every opener goes through here. The lock file is
 * written aside and linked into place, so it never exists half-written. A lock left by a dead
 * process on this host is taken over. Returns the function that releases it.
 */
export function acquireDirectoryLock(lockPath: string): () => void {
  const me: LockHolder = {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
    command: process.argv.slice(1).join(" ").slice(0, 200),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    const draft = `${lockPath}.${process.pid}.draft`;
    fs.writeFileSync(draft, JSON.stringify(me), { mode: 0o600 });
    try {
      fs.linkSync(draft, lockPath);
      const release = () => {
        if (readHolder(lockPath)?.pid === process.pid) fs.rmSync(lockPath, { force: true });
        process.removeListener("exit", release);
      };
      process.once("exit", release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      fs.rmSync(draft, { force: true });
    }
    const holder = readHolder(lockPath);
    if (holder?.pid === process.pid) {
      throw new Error(`This process already holds ${lockPath}; open the database once and share it.`);
    }
    if (!isTakeable(lockPath, holder)) throw new DirectoryLockedError(lockPath, holder);
    // Move the stale lock aside atomically; if what moved is a live lock that replaced the
    // stale one meanwhile, put it back.
    const aside = `${lockPath}.stale-${process.pid}`;
    try {
      fs.renameSync(lockPath, aside);
    } catch {
      continue;
    }
    const moved = readHolder(aside);
    if (moved && !isStale(moved)) {
      try {
        fs.linkSync(aside, lockPath);
      } catch {
        // Someone else now holds the lock; the next loop reports them.
      }
    }
    fs.rmSync(aside, { force: true });
  }
  throw new DirectoryLockedError(lockPath, readHolder(lockPath));
}
