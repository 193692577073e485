import type { Sql } from "postgres";

/**
 * A fresh copy of a bench database, so a measurement that changes its data set leaves it as it is:
 * a file copy, far quicker than writing the copy through the WAL (the default since PostgreSQL 15).
 */
export async function copyDatabase(admin: Sql, source: string, copy: string): Promise<void> {
  await admin.unsafe(`drop database if exists "${copy}" with (force)`);
  // A copy needs the source to itself: retried while autovacuum or a closing pool still holds it.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.unsafe(`create database "${copy}" template "${source}" strategy file_copy`);
      return;
    } catch (error) {
      if (attempt >= 20 || !/being accessed by other users/.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}
