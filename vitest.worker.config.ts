import { defineConfig } from "vitest/config";

/**
 * `npm run test:worker`: the Workers smoke test (wrangler dev --local, i.e. workerd, against the
 * fake Lark and a real Postgres from TEST_DATABASE_URL). Kept out of `npm test`, which needs no
 * Postgres and no workerd.
 */
export default defineConfig({
  test: {
    include: ["test/worker/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 1,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
