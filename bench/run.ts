/**
 * `npm run bench [name…]`: run every benchmark in bench/ (each `bench/<name>.bench.ts`), one after
 * another in its own process so they do not disturb each other. Each prints its own numbers.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .map((f) => f.replace(/\.bench\.ts$/, ""))
  .sort();
const names = wanted.length > 0 ? wanted : all;
const unknown = names.filter((n) => !all.includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; available: ${all.join(", ")}`);
  process.exit(2);
}

let failed = 0;
for (const name of names) {
  console.log(`\n== bench/${name} ==`);
  const r = spawnSync(process.execPath, ["--import", "tsx", `${dir}${name}.bench.ts`], { stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    console.error(`bench/${name} failed (exit ${r.status})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
