import type { TestProject } from "vitest/node";
import { startPostgresCluster, type PostgresCluster } from "../support/postgres-cluster";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string | undefined;
  }
}

let cluster: PostgresCluster | undefined;

/** One throwaway PostgreSQL server for the run; each suite makes its own database on it. */
export async function setup(project: TestProject) {
  try {
    cluster = await startPostgresCluster();
  } catch (error) {
    // In CI the real server is required; on a developer machine without it, its suites skip.
    if (process.env.CI) throw error;
    console.warn(`PostgreSQL suites skipped: ${(error as Error).message}`);
  }
  project.provide("postgresUrl", cluster?.url);
}

export function teardown() {
  cluster?.stop();
}
