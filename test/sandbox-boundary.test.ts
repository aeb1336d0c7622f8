import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The sandbox (src/sandbox/: the fake Lark, the demo district, the emulator page) lives apart from
 * the product: only the Node entry, src/server.ts, may import it. Nothing in src/domain, src/db,
 * src/bot, src/handlers, src/directory or any other product module does.
 */
const root = fileURLToPath(new URL("..", import.meta.url));
const src = join(root, "src");
const sandboxDir = join(src, "sandbox");
const ALLOWED = new Set([join(src, "server.ts")]);

/** Every module specifier in a source file: static imports, re-exports, side-effect and dynamic imports. */
function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) if (m[1]) found.push(m[1]);
  return found;
}

/** The imports of `file` that reach into src/sandbox. */
function sandboxImportsOf(file: string, source: string): string[] {
  return importSpecifiers(source).filter((spec) => {
    if (!spec.startsWith(".")) return false;
    const target = resolve(dirname(file), spec);
    return target === sandboxDir || target.startsWith(sandboxDir + sep);
  });
}

function productModules(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path !== sandboxDir) out.push(...productModules(path));
    } else if (/\.(ts|js|mjs)$/.test(entry.name) && !ALLOWED.has(path)) {
      out.push(path);
    }
  }
  return out;
}

describe("the sandbox stays apart from the product", () => {
  it("no product module imports src/sandbox (only src/server.ts may)", () => {
    const modules = productModules(src);
    expect(modules.some((m) => m.includes(`${sep}domain${sep}`))).toBe(true);
    expect(modules.some((m) => m.includes(`${sep}bot${sep}`))).toBe(true);
    expect(modules.some((m) => m.includes(`${sep}db${sep}`))).toBe(true);
    const offenders = modules.flatMap((file) =>
      sandboxImportsOf(file, readFileSync(file, "utf8")).map((spec) => `${relative(root, file)} → ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it("the check catches every form of import into src/sandbox, and nothing else", () => {
    const file = join(src, "bot", "cards", "example.ts");
    const source = [
      'import { startFakeLark } from "../../sandbox/fake-lark";',
      'import type { Sandbox } from "../../sandbox/sandbox";',
      'export * from "../../sandbox/demo";',
      'import "../../sandbox";',
      'const routes = await import("../../sandbox/routes");',
      "import {\n  demoDistrict,\n} from '../../sandbox/demo';",
      'import { card } from "./kit";',
      'import { loadConfig } from "../../config";',
      'import { sandboxLike } from "../sandbox-helpers";',
      'import { z } from "zod";',
    ].join("\n");
    expect(sandboxImportsOf(file, source)).toEqual([
      "../../sandbox/fake-lark",
      "../../sandbox/sandbox",
      "../../sandbox/demo",
      "../../sandbox/demo",
      "../../sandbox",
      "../../sandbox/routes",
    ]);
    // The Node entry is the one module allowed to wire the sandbox in.
    expect(
      sandboxImportsOf(join(src, "server.ts"), readFileSync(join(src, "server.ts"), "utf8")),
    ).not.toEqual([]);
  });
});
