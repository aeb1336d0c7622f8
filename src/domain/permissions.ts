/**
 * Who may do what: one pure function, tested as a table (role × action → allowed). Every refusal
 * says who may do it instead, in words a street official or a duty officer can act on.
 */

export type Action =
  // Directory (admins only)
  | "bind"
  | "unbind"
  | "alias"
  | "set_forces"
  | "set_duty"
  | "manage_admins"
  // Directory (anyone)
  | "view_directory"
  // A street's whistles (its officials)
  | "whistle"
  | "resolve"
  | "cancel"
  | "rate"
  | "nudge"
  // A department's part (its staff)
  | "report_in"
  | "on_site"
  | "progress"
  // Queries and reports
  | "query_street"
  | "query_department"
  | "query_all"
  | "export";

/** What we know about the person acting, for the units the action concerns. */
export interface Actor {
  openId: string;
  admin: boolean;
  /** Streets whose bound street chat the person is a member of (officials). */
  streets: readonly number[];
  /** Departments with a bound chat the person is a member of (staff). */
  departments: readonly number[];
  /** Member of an oversight (督办) chat. */
  oversight: boolean;
}

/** The unit an action is about. */
export interface Subject {
  streetId?: number;
  streetName?: string;
  departmentId?: number;
  departmentName?: string;
}

export type Decision = { ok: true } | { ok: false; reason: string };

const ADMIN_ACTIONS: Partial<Record<Action, string>> = {
  bind: "绑定群组",
  unbind: "解绑群组",
  alias: "设置部门别名",
  set_forces: "设置“1+4”力量",
  set_duty: "设置值班人",
  manage_admins: "添加或移除管理员",
};

const STREET_ACTIONS: Partial<Record<Action, string>> = {
  whistle: "吹哨",
  resolve: "办结",
  cancel: "撤销哨单",
  rate: "评价部门",
  nudge: "催办",
};

const DEPARTMENT_ACTIONS: Partial<Record<Action, string>> = {
  report_in: "报到",
  on_site: "标记到场",
  progress: "报告进展",
};

const ok: Decision = { ok: true };
const no = (reason: string): Decision => ({ ok: false, reason });

export function can(actor: Actor, action: Action, subject: Subject = {}): Decision {
  const adminVerb = ADMIN_ACTIONS[action];
  if (adminVerb) {
    return actor.admin ? ok : no(`只有管理员可以${adminVerb}。请联系管理员（发送 /目录 可查看管理员名单）。`);
  }
  if (action === "view_directory") return ok;

  const streetVerb = STREET_ACTIONS[action];
  if (streetVerb) {
    const street = subject.streetName ?? "本街乡";
    if (subject.streetId !== undefined && actor.streets.includes(subject.streetId)) return ok;
    return no(`只有${street}工作群的成员可以${streetVerb}。请在${street}的工作群中操作。`);
  }

  const departmentVerb = DEPARTMENT_ACTIONS[action];
  if (departmentVerb) {
    const department = subject.departmentName ?? "被召集部门";
    if (subject.departmentId !== undefined && actor.departments.includes(subject.departmentId)) return ok;
    return no(`只有${department}的工作人员（${department}群成员）可以${departmentVerb}。`);
  }

  switch (action) {
    case "query_all":
    case "export":
      return actor.admin || actor.oversight
        ? ok
        : no(`只有管理员和督办中心成员可以${action === "export" ? "导出数据" : "查看全部哨单"}。`);
    case "query_street":
      if (actor.admin || actor.oversight) return ok;
      if (subject.streetId !== undefined && actor.streets.includes(subject.streetId)) return ok;
      return no(`只有${subject.streetName ?? "该街乡"}的成员、督办中心和管理员可以查看。`);
    case "query_department":
      if (actor.admin || actor.oversight) return ok;
      if (subject.departmentId !== undefined && actor.departments.includes(subject.departmentId)) return ok;
      return no(`只有${subject.departmentName ?? "该部门"}的成员、督办中心和管理员可以查看。`);
  }
  return no("不支持的操作。");
}
