import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Run on their own: the Workers smoke test (workerd against a real Postgres, `npm run
    // test:worker`) and the browser suite (needs chromium, `npm run test:browser`).
    exclude: [...configDefaults.exclude, "test/worker/**", "test/browser/**"],
    globalSetup: ["test/support/global-setup.ts"],
    // One worker process per core; files in a worker share one embedded Postgres (≈ 5 s and
    // ≈ 700 MB to start), so modules are not re-isolated per file.
    pool: "forks",
    maxWorkers: 2,
    isolate: false,
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
