import { describe, expect, it } from "vitest";
import { type Action, type Actor, can } from "../../src/domain/permissions";

const STREET = 1;
const OTHER_STREET = 2;
const DEPT = 10;
const OTHER_DEPT = 11;

const base: Actor = { openId: "ou_x", admin: false, streets: [], departments: [], oversight: false };
const roles: Record<string, Actor> = {
  admin: { ...base, admin: true },
  official: { ...base, streets: [STREET] },
  otherOfficial: { ...base, streets: [OTHER_STREET] },
  staff: { ...base, departments: [DEPT] },
  otherStaff: { ...base, departments: [OTHER_DEPT] },
  oversight: { ...base, oversight: true },
  nobody: base,
};

const subject = {
  streetId: STREET,
  streetName: "朝阳门街道",
  departmentId: DEPT,
  departmentName: "城管执法队",
};

// role → allowed actions (everything else must be refused)
const table: Record<string, Action[]> = {
  admin: [
    "bind",
    "unbind",
    "alias",
    "set_forces",
    "set_duty",
    "manage_admins",
    "view_directory",
    "query_street",
    "query_department",
    "query_all",
    "export",
  ],
  official: ["view_directory", "whistle", "resolve", "cancel", "rate", "nudge", "query_street"],
  otherOfficial: ["view_directory"],
  staff: ["view_directory", "report_in", "on_site", "progress", "query_department"],
  otherStaff: ["view_directory"],
  oversight: ["view_directory", "query_street", "query_department", "query_all", "export"],
  nobody: ["view_directory"],
};

const actions: Action[] = [
  "bind",
  "unbind",
  "alias",
  "set_forces",
  "set_duty",
  "manage_admins",
  "view_directory",
  "whistle",
  "resolve",
  "cancel",
  "rate",
  "nudge",
  "report_in",
  "on_site",
  "progress",
  "query_street",
  "query_department",
  "query_all",
  "export",
];

describe("can(actor, action, subject)", () => {
  const cases = Object.keys(roles).flatMap((role) =>
    actions.map((action) => [role, action, (table[role] ?? []).includes(action)] as const),
  );
  it.each(cases)("%s × %s → %s", (role, action, allowed) => {
    const d = can(roles[role] as Actor, action, subject);
    expect(d.ok).toBe(allowed);
    if (!d.ok) expect(d.reason).toMatch(/只有/); // every refusal says who may do it instead
  });

  it("names the street and the department in refusals", () => {
    expect(can(roles.staff as Actor, "whistle", subject)).toEqual({
      ok: false,
      reason: "只有朝阳门街道工作群的成员可以吹哨。请在朝阳门街道的工作群中操作。",
    });
    expect(can(roles.official as Actor, "report_in", subject)).toEqual({
      ok: false,
      reason: "只有城管执法队的工作人员（城管执法队群成员）可以报到。",
    });
  });

  it("an admin is not thereby an official or staff: whistling and reporting in stay with the units", () => {
    expect(can(roles.admin as Actor, "whistle", subject).ok).toBe(false);
    expect(can(roles.admin as Actor, "report_in", subject).ok).toBe(false);
  });
});
