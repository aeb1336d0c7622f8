import postgres from "postgres";
import type { TestProject } from "vitest/node";

/**
 * When TEST_DATABASE_URL is set, every test worker creates its own database named after this run
 * (see test/support/db.ts); here we hand out the run id and drop this run's databases at the end,
 * so nothing a run leaves behind can make another pass or fail.
 */
export default function setup(project: TestProject) {
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  project.provide("testRunId", runId);
  return async () => {
    const url = process.env.TEST_DATABASE_URL;
    if (!url) return;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const rows = await admin<{ datname: string }[]>`
        select datname from pg_database where datname like ${`whistle_t_${runId}_%`}`;
      for (const { datname } of rows) {
        await admin.unsafe(`drop database if exists "${datname}" with (force)`);
      }
    } finally {
      await admin.end({ timeout: 5 });
    }
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    testRunId: string;
  }
}
