import { readFileSync } from "node:fs";
import { asc, eq, sql } from "drizzle-orm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  admins,
  chatBindings,
  chatMembers,
  dutyContacts,
  forceSets,
  people,
  typePolicies,
  unitAliases,
  units,
} from "../src/db/schema";
import { exportDirectory } from "../src/directory/export";
import { type ImportResult, importDirectory } from "../src/directory/import";
import type { ChangeReport } from "../src/directory/report";
import { resetDatabase, type TestDatabase, testDatabase } from "./support/db";

let t: TestDatabase;
beforeAll(async () => {
  t = await testDatabase();
});
beforeEach(async () => {
  await resetDatabase(t);
});

const example = readFileSync(new URL("../examples/directory.yaml", import.meta.url), "utf8");

/** Chat and person ids of the example, by what they are. */
const ids = {
  street: "oc_a7dad569dcaaf1eb1158660267d7f999",
  chengguanCard: "oc_c83e5514c12b62571f9600df1b7511d2",
  policeCard: "oc_55c2a28e9ba8b60a0b989584162e32aa",
  fireCard: "oc_4d9965f842abc33dbe56a375f1bfc137",
};

/** Every row of every table the directory touches (and two it must not), in a stable order. */
async function dump() {
  const db = t.db;
  return {
    units: await db.select().from(units).orderBy(asc(units.id)),
    aliases: await db.select().from(unitAliases).orderBy(asc(unitAliases.aliasKey)),
    chats: await db.select().from(chatBindings).orderBy(asc(chatBindings.chatId)),
    forces: await db.select().from(forceSets).orderBy(asc(forceSets.streetId), asc(forceSets.position)),
    duty: await db
      .select()
      .from(dutyContacts)
      .orderBy(asc(dutyContacts.departmentId), asc(dutyContacts.openId)),
    admins: await db.select().from(admins).orderBy(asc(admins.openId)),
    policies: await db.select().from(typePolicies).orderBy(asc(typePolicies.id)),
    people: await db.select().from(people),
    chatMembers: await db.select().from(chatMembers),
  };
}

async function run(text: string, fileName = "examples/directory.yaml"): Promise<ImportResult> {
  return importDirectory(t.db, text, fileName);
}

async function ok(text: string, fileName?: string): Promise<ChangeReport> {
  const result = await run(text, fileName);
  if (!result.ok) throw new Error(`import failed:\n${result.errors.join("\n")}`);
  return result.report;
}

async function errors(text: string, fileName = "bad.yaml"): Promise<string[]> {
  const result = await run(text, fileName);
  if (result.ok) throw new Error("import unexpectedly succeeded");
  return result.errors;
}

/** Name of a unit by id, for readable assertions. */
async function unitNames(): Promise<Map<number, string>> {
  const rows = await t.db.select().from(units);
  return new Map(rows.map((u) => [u.id, u.name]));
}

async function forceSetOf(street: string): Promise<string[]> {
  const names = await unitNames();
  const [s] = await t.db.select().from(units).where(eq(units.name, street));
  if (!s) throw new Error(`no street ${street}`);
  const rows = await t.db
    .select()
    .from(forceSets)
    .where(eq(forceSets.streetId, s.id))
    .orderBy(asc(forceSets.position));
  return rows.map((r) => names.get(r.departmentId) ?? "?");
}

async function chat(chatId: string) {
  const names = await unitNames();
  const [row] = await t.db.select().from(chatBindings).where(eq(chatBindings.chatId, chatId));
  return row && { unit: names.get(row.unitId), role: row.role, card: row.isCardGroup, name: row.chatName };
}

describe(`directory import (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("imports the example street: 1+4, N, oversight, chats, aliases, duty, admins, policies", async () => {
    const report = await ok(example);
    expect(report.counts.streets).toEqual({ created: 1, updated: 0, removed: 0, unchanged: 0 });
    expect(report.counts.departments.created).toBe(9);
    expect(report.counts.oversight.created).toBe(1);
    expect(report.counts.chats.created).toBe(12);
    expect(report.counts.aliases.created).toBe(17);
    expect(report.counts.duty.created).toBe(10);
    expect(report.counts.admins.created).toBe(2);
    expect(report.counts.forces.created).toBe(1);
    expect(report.counts.policies.created).toBe(1);
    expect(report.lines).toContain("+ 部门 城管执法队");
    expect(report.lines).toContain("+ 力量 朝阳门街道: 城管执法队、公安、消防、交通、市场监管");

    expect(await forceSetOf("朝阳门街道")).toEqual(["城管执法队", "公安", "消防", "交通", "市场监管"]);
    expect(await chat(ids.street)).toEqual({
      unit: "朝阳门街道",
      role: "street",
      card: false,
      name: "朝阳门街道吹哨指挥群",
    });
    expect(await chat(ids.chengguanCard)).toMatchObject({
      unit: "城管执法队",
      role: "department",
      card: true,
    });
    expect(await chat("oc_58ff1c426891c93844ad10c8476336cd")).toMatchObject({
      unit: "城管执法队",
      card: false,
    });
    const d = await dump();
    const departments = d.units.filter((u) => u.kind === "department");
    for (const dept of departments) {
      expect(
        d.chats.filter((c) => c.unitId === dept.id && c.isCardGroup),
        dept.name,
      ).toHaveLength(1);
    }
    expect(d.units.map((u) => `${u.kind}:${u.name}`)).toContain("oversight:东城区接诉即办中心");
    expect(d.aliases.find((a) => a.alias === "派出所")?.aliasKey).toBe("派出所");
    expect(d.admins.every((a) => a.source === "import")).toBe(true);
    expect(d.policies).toMatchObject([
      { type: "emergency", reportLimitMinutes: 15, escalateEveryMinutes: 15, buzzChannels: ["sms"] },
    ]);
  });

  it("importing the same file again reports zero changes and writes nothing", async () => {
    await ok(example);
    const before = await dump();
    const report = await ok(example);
    expect(report.changes).toBe(0);
    expect(report.lines).toEqual([]);
    expect(report.counts.departments).toEqual({ created: 0, updated: 0, removed: 0, unchanged: 9 });
    expect(await dump()).toEqual(before);
  });

  it("export → import changes nothing (YAML and JSON), and re-creates the same directory elsewhere", async () => {
    await ok(example);
    const before = await dump();
    const yaml = await exportDirectory(t.db);
    const json = await exportDirectory(t.db, "json");
    expect((await ok(yaml, "export.yaml")).changes).toBe(0);
    expect((await ok(json, "export.json")).changes).toBe(0);
    expect(await dump()).toEqual(before);

    await resetDatabase(t);
    const report = await ok(yaml, "export.yaml");
    expect(report.counts.departments.created).toBe(9);
    expect(await exportDirectory(t.db)).toBe(yaml);
    expect(await exportDirectory(t.db, "json")).toBe(json);
  });

  it("a bad chat id is reported with its line and field; nothing is written", async () => {
    const text = [
      "streets:", // 1
      "  - name: 朝阳门街道", // 2
      "    chats: [oc_street]", // 3
      "departments:", // 4
      "  - name: 城管执法队", // 5
      "  - name: 公安", // 6
      "  - name: 消防", // 7
      "    chats:", // 8
      "      - { id: oc-fire, card: true }", // 9
      "      - 12345", // 10
    ].join("\n");
    expect(await errors(text)).toEqual([
      "bad.yaml:9: departments[2].chats[0].id: must look like oc_xxx (the chat's id)",
      "bad.yaml:10: departments[2].chats[1].id: must look like oc_xxx (the chat's id)",
    ]);
    expect((await dump()).units).toEqual([]);
  });

  it("every problem is reported at once, zod's and the file's own, each with line and field", async () => {
    await ok(example);
    const before = await dump();
    const text = [
      "admins: [ou_ok, someone]", // 1
      "streets:", // 2
      "  - name: 朝阳门街道", // 3
      "    chats: [oc_s1]", // 4
      "    policies:", // 5
      "      emergency: { report_limit_minutes: 0 }", // 6
      "departments:", // 7
      "  - name: 城管执法队", // 8
      "    alias: [城管]", // 9
      "    chats:", // 10
      "      - { id: oc_d1, card: true }", // 11
      "      - { id: oc_d2, card: true }", // 12
      "      - oc_s1", // 13
      "    duty: [ou_a, ou_a]", // 14
      "  - name: ''", // 15
    ].join("\n");
    expect(await errors(text)).toEqual([
      "bad.yaml:1: admins[1]: must look like ou_xxx (the person's open_id)",
      "bad.yaml:6: streets[0].policies.emergency.report_limit_minutes: must be a whole number of minutes from 1 to 1440",
      'bad.yaml:9: departments[0].alias: unknown field (did you mean "aliases"?)',
      "bad.yaml:12: departments[0].chats[1].card: only one chat can be the card group (already line 11, departments[0].chats[0])",
      "bad.yaml:13: departments[0].chats[2].id: oc_s1 is listed twice (first at line 4, streets[0].chats[0].id)",
      "bad.yaml:14: departments[0].duty[1]: ou_a is listed twice (first at line 14, departments[0].duty[0])",
      "bad.yaml:15: departments[1].name: must not be empty",
    ]);
    expect(await dump()).toEqual(before);
  });

  it("a force-set name that is no department is reported with a suggestion; nothing is written", async () => {
    await ok(example);
    const before = await dump();
    const text = [
      "streets:", // 1
      "  - name: 朝阳门街道", // 2
      "    forces:", // 3
      "      - 城管", // 4   an alias: fine
      "      - 公安", // 5
      "      - 消防队", // 6
      "      - 城管执法队", // 7   the same department as 城管
      "departments:", // 8
      "  - name: 应急管理", // 9
    ].join("\n");
    expect(await errors(text)).toEqual([
      "bad.yaml:6: streets[0].forces[2]: 消防队 is not a department in this file or the database (did you mean 消防?)",
      "bad.yaml:7: streets[0].forces[3]: 城管执法队 is 城管执法队, already listed (line 4, streets[0].forces[0])",
    ]);
    expect(await dump()).toEqual(before);
  });

  it("a duplicate chat id is reported at its second occurrence", async () => {
    const text = [
      "streets:",
      "  - name: 朝阳门街道",
      "    chats: [oc_same]",
      "oversight:",
      "  - name: 东城区接诉即办中心",
      "    chats:",
      "      - oc_same",
    ].join("\n");
    expect(await errors(text)).toEqual([
      "bad.yaml:7: oversight[0].chats[0].id: oc_same is listed twice (first at line 3, streets[0].chats[0].id)",
    ]);
    expect((await dump()).chats).toEqual([]);
  });

  it("aliases may not collide with a department or alias already in the database", async () => {
    await ok(example);
    const before = await dump();
    const text = [
      "departments:", // 1
      "  - name: 应急管理", // 2
      "    aliases: [应急局, 公安, 派出所]", // 3
      "  - name: 消防站", // 4   an alias of 消防 in the database
    ].join("\n");
    expect(await errors(text)).toEqual([
      "bad.yaml:3: departments[0].aliases[1]: 公安 is the name of 部门 公安 in the database",
      "bad.yaml:3: departments[0].aliases[2]: 派出所 is already an alias of 公安 in the database",
      "bad.yaml:4: departments[1].name: 消防站 is already an alias of 消防 in the database",
    ]);
    expect(await dump()).toEqual(before);
  });

  it("malformed YAML and JSON name the line", async () => {
    const yaml = ["streets:", "  - name: 朝阳门街道", "    chats: [oc_1", "  - name: 东华门街道"].join("\n");
    const [yamlError] = await errors(yaml);
    expect(yamlError).toMatch(/^bad\.yaml:4: not valid YAML: /);
    const json = ['{"departments": [', '  {"name": "公安", "chats": ["oc_1"]', "]}"].join("\n");
    const [jsonError] = await errors(json, "bad.json");
    expect(jsonError).toMatch(/^bad\.json:(\d+:)? not valid JSON: /);
    const jsonBadField = ['{"departments": [', '  {"name": "公安", "chats": ["oc-1"]}', "]}"].join("\n");
    expect(await errors(jsonBadField, "bad.json")).toEqual([
      "bad.json:2: departments[0].chats[0].id: must look like oc_xxx (the chat's id)",
    ]);
    expect(await errors("", "empty.yaml")).toEqual([
      "empty.yaml: the file is empty (expected admins, streets, departments, oversight)",
    ]);
    expect((await dump()).units).toEqual([]);
  });

  it("moving a chat, changing a force set and moving an alias are reported and applied", async () => {
    await ok(example);
    const change = [
      "streets:",
      "  - name: 朝阳门街道",
      "    forces: [城管, 派出所, 消防, 交通, 市场监管, 房管]",
      "departments:",
      "  - name: 消防", // takes 公安's card group; its own card group gives way
      "    chats:",
      `      - { id: ${ids.policeCard}, card: true }`,
      "  - name: 城管执法队",
      "    aliases: [城管]",
      "  - name: 公安",
      "    aliases: [派出所, 朝阳门派出所, 执法队]", // 执法队 moves from 城管执法队
    ].join("\n");
    const report = await ok(change, "change.yaml");
    expect(report.lines).toEqual([
      "- 别名 执法队 (城管执法队)",
      "+ 别名 执法队 → 公安",
      `~ 群 ${ids.policeCard}: 公安 → 消防 (派单群)`,
      `~ 群 ${ids.fireCard} (消防): 不再是派单群`,
      "~ 力量 朝阳门街道: 城管执法队、公安、消防、交通、市场监管 → 城管执法队、公安、消防、交通、市场监管、房管",
    ]);
    expect(report.counts.chats).toEqual({ created: 0, updated: 2, removed: 0, unchanged: 0 });
    expect(report.counts.forces).toEqual({ created: 0, updated: 1, removed: 0, unchanged: 0 });

    expect(await chat(ids.policeCard)).toMatchObject({ unit: "消防", role: "department", card: true });
    expect(await chat(ids.fireCard)).toMatchObject({ unit: "消防", card: false });
    expect(await forceSetOf("朝阳门街道")).toEqual([
      "城管执法队",
      "公安",
      "消防",
      "交通",
      "市场监管",
      "房管",
    ]);
    const d = await dump();
    const owner = (alias: string) =>
      d.units.find((u) => u.id === d.aliases.find((a) => a.alias === alias)?.unitId);
    expect(owner("执法队")?.name).toBe("公安");
    expect(owner("城管")?.name).toBe("城管执法队");

    // The changed file is now the state: a second run changes nothing.
    const before = await dump();
    expect((await ok(change, "change.yaml")).changes).toBe(0);
    expect(await dump()).toEqual(before);
  });

  it("a chat bound to a street moves to a department as its card group; duty and policies follow the file", async () => {
    await ok(example);
    const change = [
      "policies:",
      "  key: { progress_every_hours: 8 }",
      "streets:",
      "  - name: 朝阳门街道",
      "    policies: {}", // drops the emergency override
      "  - name: 东坝乡", // a township by its name
      "    chats: [oc_dongba]",
      "    forces: [城管执法队]",
      "departments:",
      "  - name: 城管执法队",
      "    chats:",
      `      - { id: ${ids.street}, card: true, name: 改作城管派单群 }`,
      "    duty: [ou_8bd5072fa8c84954461282dbec66bf2f, ou_new]",
    ].join("\n");
    const report = await ok(change, "change.yaml");
    expect(report.lines).toEqual([
      "+ 乡镇 东坝乡",
      "+ 群 oc_dongba → 东坝乡",
      `~ 群 ${ids.street}: 朝阳门街道 → 城管执法队 (派单群), 群名 朝阳门街道吹哨指挥群 → 改作城管派单群`,
      `~ 群 ${ids.chengguanCard} (城管执法队): 不再是派单群`,
      "+ 力量 东坝乡: 城管执法队",
      "- 值班 ou_0bf580e5466b92ca0a568f5aef2168ad (城管执法队)",
      "+ 值班 ou_new → 城管执法队",
      "+ 时限 全区默认 重点工作哨: progress_every_hours 8",
      "- 时限 朝阳门街道 应急处置哨",
    ]);
    expect(await chat(ids.street)).toEqual({
      unit: "城管执法队",
      role: "department",
      card: true,
      name: "改作城管派单群",
    });
    const d = await dump();
    expect(d.units.find((u) => u.name === "东坝乡")?.kind).toBe("township");
    expect(d.policies).toMatchObject([{ streetId: null, type: "key", progressEveryHours: 8 }]);
    expect((await ok(change, "change.yaml")).changes).toBe(0);
    expect((await ok(await exportDirectory(t.db), "export.yaml")).changes).toBe(0);
  });

  it("all or nothing: a failure part-way through leaves the database as it was", async () => {
    await t.db.execute(
      sql.raw(`create or replace function whistle_test_fail() returns trigger language plpgsql as $$
        begin raise exception 'injected failure'; end $$`),
    );
    await t.db.execute(
      sql.raw(`create trigger whistle_test_fail before insert on duty_contacts
        for each row execute function whistle_test_fail()`),
    );
    try {
      const before = await dump();
      await expect(run(example)).rejects.toThrow();
      expect(await dump()).toEqual(before);
      expect(before.units).toEqual([]);
    } finally {
      await t.db.execute(sql.raw("drop trigger if exists whistle_test_fail on duty_contacts"));
      await t.db.execute(sql.raw("drop function if exists whistle_test_fail()"));
    }
    expect((await ok(example)).changes).toBeGreaterThan(0);
  });
});
