import { defineConfig } from "vitest/config";

/** `npm run test:browser`: the sandbox page in a real browser (Debian's chromium through playwright-core). */
export default defineConfig({
  test: {
    include: ["test/browser/**/*.browser.test.ts"],
    pool: "forks",
    maxWorkers: 1,
    testTimeout: 180_000,
    hookTimeout: 90_000,
  },
});
