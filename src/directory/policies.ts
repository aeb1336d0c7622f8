/**
 * Per-type timing rules as the directory file writes them (snake_case, only what differs from the
 * column defaults) and as type_policies stores them (every field). Pure.
 */
import { typePolicies } from "../db/schema";
import type { PolicyField, PolicyFields } from "./file-format";

export interface PolicyValues {
  reportLimitMinutes: number;
  remindBeforeMinutes: number;
  escalateEveryMinutes: number;
  escalateMaxTimes: number;
  progressEveryHours: number;
  buzzChannels: string[];
}

const COLUMNS = {
  report_limit_minutes: "reportLimitMinutes",
  remind_before_minutes: "remindBeforeMinutes",
  escalate_every_minutes: "escalateEveryMinutes",
  escalate_max_times: "escalateMaxTimes",
  progress_every_hours: "progressEveryHours",
  buzz_channels: "buzzChannels",
} as const satisfies Record<PolicyField, keyof PolicyValues>;

const FIELDS = Object.keys(COLUMNS) as PolicyField[];

const numberDefault = (column: { default: unknown }, fallback: number) =>
  typeof column.default === "number" ? column.default : fallback;

/** What a row gets for a field the file leaves out: the column defaults of type_policies. */
export const POLICY_DEFAULTS: PolicyValues = {
  reportLimitMinutes: numberDefault(typePolicies.reportLimitMinutes, 30),
  remindBeforeMinutes: numberDefault(typePolicies.remindBeforeMinutes, 10),
  escalateEveryMinutes: numberDefault(typePolicies.escalateEveryMinutes, 30),
  escalateMaxTimes: numberDefault(typePolicies.escalateMaxTimes, 3),
  progressEveryHours: numberDefault(typePolicies.progressEveryHours, 4),
  buzzChannels: [],
};

const channels = (list: readonly string[]) => [...new Set(list)].sort();

/** The full row a file entry describes: its fields over the defaults. */
export function policyValues(fields: PolicyFields): PolicyValues {
  const values: PolicyValues = { ...POLICY_DEFAULTS };
  for (const field of FIELDS) {
    const v = fields[field];
    if (v === undefined) continue;
    if (field === "buzz_channels") values.buzzChannels = channels(v as string[]);
    else values[COLUMNS[field]] = v as number;
  }
  return values;
}

/** A stored row as the file writes it: only the fields that differ from the defaults. */
export function policyFields(row: PolicyValues): PolicyFields {
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const v = row[COLUMNS[field]];
    const d = POLICY_DEFAULTS[COLUMNS[field]];
    if (formatValue(v) !== formatValue(d)) out[field] = Array.isArray(v) ? channels(v) : v;
  }
  return out as PolicyFields;
}

const formatValue = (v: number | string[]) => (Array.isArray(v) ? `[${channels(v).join(", ")}]` : String(v));

/** "report_limit_minutes 30 → 15" for every field that differs; empty when the rows are the same. */
export function policyChanges(from: PolicyValues, to: PolicyValues): string[] {
  const out: string[] = [];
  for (const field of FIELDS) {
    const a = formatValue(from[COLUMNS[field]]);
    const b = formatValue(to[COLUMNS[field]]);
    if (a !== b) out.push(`${field} ${a} → ${b}`);
  }
  return out;
}

/** "report_limit_minutes 15" for the fields that differ from the defaults, or "defaults". */
export function describePolicy(values: PolicyValues): string {
  const fields = policyFields(values);
  const parts = Object.entries(fields).map(
    ([k, v]) => `${k} ${Array.isArray(v) ? `[${v.join(", ")}]` : String(v)}`,
  );
  return parts.length > 0 ? parts.join(", ") : "defaults";
}
