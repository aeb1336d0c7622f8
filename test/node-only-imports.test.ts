import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

/**
 * The same code runs on Node and on Cloudflare Workers (workerd with `nodejs_compat`). Only the
 * Node entries below may import what workerd cannot run; everything else — the domain, the
 * database queries, the bot, the HTTP app, src/worker.ts — must not, and must not import those
 * entries either, so Node-only code is reachable only from Node entry points.
 *
 * Third-party packages' own insides (the Lark SDK's `fs`/`http` imports, postgres.js's socket
 * layer, exceljs) are checked where they matter, by bundling (`npm run build:worker`) and by
 * running the bundle on workerd (`npm run test:worker`).
 */
const root = fileURLToPath(new URL("..", import.meta.url));

/** Files allowed to use Node-only modules, and why. Paths relative to the repository, `/**` = a folder. */
const NODE_ONLY_FILES: Record<string, string> = {
  "src/server.ts": "the Node entry: @hono/node-server, timers, signals, PGlite",
  "src/handlers/long-connection.ts":
    "the long-connection entry: the SDK's WSClient needs a long-lived process",
  "src/sandbox/**": "the sandbox and its fake Lark: Node HTTP servers, node:crypto's randomUUID for the fake",
  "src/cli/**": "npm run directory: reads the directory file from disk",
  "src/db/migrate-cli.ts": "npm run db:migrate",
  "src/db/open.ts": "opens PGlite in DATA_DIR (node:fs); used by the Node entries only",
  "src/db/pglite.ts": "embedded PGlite (WASM Postgres persisted to disk); Workers use Hyperdrive",
  "src/db/migrate.ts": "reads drizzle/ from disk; the PGlite migrator",
};

/**
 * Node built-ins workerd provides with `nodejs_compat` and that shared code may use. Any other
 * built-in (fs, child_process, http, net, worker_threads, os, …) fails: on workerd it is missing,
 * or a stub or an in-memory imitation (node:fs) that does not do what the Node server relies on.
 */
const WORKERD_BUILTINS = new Set([
  "assert",
  "async_hooks",
  "buffer",
  "crypto",
  "diagnostics_channel",
  "events",
  "path",
  "process",
  "stream",
  "string_decoder",
  "timers",
  "url",
  "util",
  "zlib",
]);

/** Packages that need Node (or are dev tools): PGlite, the Node HTTP adapter, the TS runner, … */
const NODE_ONLY_PACKAGES = [
  "@electric-sql/pglite",
  "drizzle-orm/pglite",
  "@hono/node-server",
  "tsx",
  "ws",
  "drizzle-kit",
  "vitest",
  "wrangler",
];

const NODE_BUILTINS = new Set(builtinModules.map((m) => m.replace(/^node:/, "")));

/** Runtime imports of a TypeScript file (`import type` / `export type` are erased and skipped). */
function importsOf(source: string): string[] {
  const out: string[] = [];
  const statik =
    /^\s*(import|export)\s+(type\s+)?(?:[\w$]+\s*,?\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?)?\s*from\s*["']([^"']+)["']/gm;
  for (const m of source.matchAll(statik)) if (!m[2] && m[3]) out.push(m[3]);
  for (const m of source.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) if (m[1]) out.push(m[1]);
  for (const m of source.matchAll(/\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g))
    if (m[1]) out.push(m[1]);
  return out;
}

function isExempt(file: string, exempt: string[]): boolean {
  return exempt.some((p) => (p.endsWith("/**") ? file.startsWith(p.slice(0, -2)) : file === p));
}

/** Why a bare specifier is not allowed in shared code, or undefined when it is. */
function forbidden(spec: string): string | undefined {
  const bare = spec.replace(/^node:/, "");
  const top = bare.split("/")[0] ?? bare;
  if (spec.startsWith("node:") || NODE_BUILTINS.has(top)) {
    return WORKERD_BUILTINS.has(top) ? undefined : `Node built-in ${spec} (not on workerd)`;
  }
  const pkg = NODE_ONLY_PACKAGES.find((p) => spec === p || spec.startsWith(`${p}/`));
  return pkg ? `Node-only package ${pkg}` : undefined;
}

function resolveRelative(fromFile: string, spec: string, base: string): string | undefined {
  const target = resolve(base, dirname(fromFile), spec);
  for (const candidate of [target, `${target}.ts`, join(target, "index.ts")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(base, candidate);
  }
  return undefined;
}

function sourceFiles(base: string, dir = "src"): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(base, dir))) {
    const path = `${dir}/${name}`;
    if (statSync(join(base, path)).isDirectory()) out.push(...sourceFiles(base, path));
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

interface Violation {
  file: string;
  spec: string;
  why: string;
}

/** Every import in a non-exempt file under `src/` that reaches a Node-only module or file. */
function nodeOnlyViolations(base: string, exempt: string[]): Violation[] {
  const violations: Violation[] = [];
  for (const file of sourceFiles(base)) {
    if (isExempt(file, exempt)) continue;
    for (const spec of importsOf(readFileSync(join(base, file), "utf8"))) {
      if (spec.startsWith(".")) {
        const target = resolveRelative(file, spec, base);
        if (!target) violations.push({ file, spec, why: "cannot resolve" });
        else if (isExempt(target, exempt)) violations.push({ file, spec, why: `Node-only file ${target}` });
        continue;
      }
      const why = forbidden(spec);
      if (why) violations.push({ file, spec, why });
    }
  }
  return violations;
}

/** The static import graph from an entry: every reachable file, with one import chain to it. */
function reachable(base: string, entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  for (let file = queue.shift(); file; file = queue.shift()) {
    for (const spec of importsOf(readFileSync(join(base, file), "utf8"))) {
      const key = spec.startsWith(".") ? resolveRelative(file, spec, base) : spec;
      if (!key || seen.has(key)) continue;
      seen.set(key, [...(seen.get(file) ?? []), key]);
      if (spec.startsWith(".")) queue.push(key);
    }
  }
  return seen;
}

const exempt = Object.keys(NODE_ONLY_FILES);
const show = (v: Violation[]) => v.map((x) => `${x.file}: "${x.spec}" — ${x.why}`);

describe("only the Node entries import Node-only modules", () => {
  it("holds for every file under src/", () => {
    expect(show(nodeOnlyViolations(root, exempt))).toEqual([]);
  });

  it("nothing src/worker.ts reaches is Node-only", () => {
    const graph = reachable(root, "src/worker.ts");
    const bad = [...graph.entries()]
      .filter(([key]) => (key.startsWith("src/") ? isExempt(key, exempt) : forbidden(key)))
      .map(([, chain]) => chain.join(" → "));
    expect(bad).toEqual([]);
    // The walk does see the app: guard against a parser that finds nothing.
    for (const f of [
      "src/handlers/app.ts",
      "src/bot/runtime.ts",
      "src/db/postgres.ts",
      "src/bot/lark-client.ts",
    ]) {
      expect(graph.has(f), f).toBe(true);
    }
    expect(graph.has("postgres")).toBe(true);
  });

  it("every exemption still names a file", () => {
    const files = sourceFiles(root);
    for (const p of exempt)
      expect(
        files.some((f) => isExempt(f, [p])),
        p,
      ).toBe(true);
  });
});

describe("the check itself fails on violations", () => {
  const dir = mkdtempSync(join(tmpdir(), "whistle-node-only-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };

  it("reports built-ins, Node-only packages and imports of Node-only files", () => {
    write("src/server.ts", 'import { serve } from "@hono/node-server";\nimport "./db/open";\n');
    write("src/db/open.ts", 'import { mkdirSync } from "node:fs";\n');
    write(
      "src/bot/ok.ts",
      [
        'import { createHash } from "node:crypto";',
        'import type { PGlite } from "@electric-sql/pglite";',
        'import { z } from "zod";',
        '/** mentions import { x } from "node:fs" in a comment, which is not an import */',
      ].join("\n"),
    );
    write(
      "src/bot/bad.ts",
      [
        "import {",
        "  readFileSync,",
        '} from "fs";',
        'import { PGlite } from "@electric-sql/pglite";',
        'import { openConfiguredDatabase } from "../db/open";',
        'const cp = await import("node:child_process");',
        'export * from "node:worker_threads";',
      ].join("\n"),
    );
    write("src/worker.ts", 'import "./bot/ok";\nimport { x } from "./bot/bad";\n');
    const violations = nodeOnlyViolations(dir, ["src/server.ts", "src/db/open.ts"]);
    expect(show(violations)).toEqual([
      'src/bot/bad.ts: "fs" — Node built-in fs (not on workerd)',
      'src/bot/bad.ts: "@electric-sql/pglite" — Node-only package @electric-sql/pglite',
      'src/bot/bad.ts: "../db/open" — Node-only file src/db/open.ts',
      'src/bot/bad.ts: "node:worker_threads" — Node built-in node:worker_threads (not on workerd)',
      'src/bot/bad.ts: "node:child_process" — Node built-in node:child_process (not on workerd)',
    ]);
    expect(reachable(dir, "src/worker.ts").get("src/db/open.ts")).toEqual([
      "src/worker.ts",
      "src/bot/bad.ts",
      "src/db/open.ts",
    ]);
  });
});
