/**
 * `npm run directory -- import <file.yaml|file.json> [--dry-run]` and `npm run directory -- export [--json]`:
 * scripted set-up of streets, departments, oversight, chats, aliases, force sets, duty contacts and
 * admins. Opens the same database the server does (DATABASE_URL, else PGlite in DATA_DIR/pglite).
 * With PGlite, stop the server first: one process at a time may open its data directory.
 */
import { readFileSync } from "node:fs";
import { loadConfig } from "../config";
import type { Database } from "../db/database";
import { openConfiguredDatabase, openFailure } from "../db/open";
import { exportDirectory } from "../directory/export";
import { importDirectory } from "../directory/import";
import { formatReport } from "../directory/report";

const USAGE = [
  "usage: npm run directory -- import <file.yaml|file.json> [--dry-run]",
  "       npm run directory -- export [--json] > directory.yaml",
  "example file: examples/directory.yaml",
].join("\n");

function fail(message: string, code = 1): never {
  console.error(message);
  process.exit(code);
}

const [command, ...rest] = process.argv.slice(2);
const flags = new Set(rest.filter((a) => a.startsWith("--")));
const args = rest.filter((a) => !a.startsWith("--"));
const known = command === "import" ? ["--dry-run"] : command === "export" ? ["--json"] : [];
const unknownFlag = [...flags].find((f) => !known.includes(f));
if (command === "help" || flags.has("--help")) fail(USAGE, 0);
if ((command !== "import" && command !== "export") || unknownFlag) fail(USAGE, 2);
if (command === "import" && args.length !== 1) fail(USAGE, 2);
if (command === "export" && args.length !== 0) fail(USAGE, 2);

let text = "";
const fileName = args[0] ?? "";
if (command === "import") {
  try {
    text = readFileSync(fileName, "utf8");
  } catch (err) {
    fail(`${fileName}: cannot read: ${err instanceof Error ? err.message : err}`);
  }
}

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  for (const problem of loaded.problems) console.error(`config: ${problem}`);
  fail("config: fix the variables above and run again (see README → Configuration)");
}
const config = loaded.config;

let database: Database;
try {
  database = await openConfiguredDatabase(config, { poolSize: 2 });
} catch (err) {
  fail(openFailure(config, err));
}

let code = 0;
try {
  if (command === "export") {
    process.stdout.write(await exportDirectory(database.db, flags.has("--json") ? "json" : "yaml"));
  } else {
    const result = await importDirectory(database.db, text, fileName, { dryRun: flags.has("--dry-run") });
    if (!result.ok) {
      for (const line of result.errors) console.error(line);
      console.error(`${result.errors.length} problem(s); nothing was written`);
      code = 1;
    } else {
      for (const line of formatReport(result.report)) console.log(line);
      if (flags.has("--dry-run") && result.report.changes > 0) console.log("dry run: nothing was written");
    }
  }
} catch (err) {
  console.error(`directory ${command}: ${err instanceof Error ? err.message : err}`);
  code = 1;
} finally {
  await database.close();
}
process.exit(code);
