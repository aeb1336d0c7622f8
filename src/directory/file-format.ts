/**
 * The directory file (`npm run directory -- import|export`): the zod schema and its types.
 * YAML or JSON, same shape. Pure: no I/O. See examples/directory.yaml.
 *
 * Lists are "the desired state of what they list": a key that is present (even `[]`) makes the
 * stored set exactly that; a key that is absent leaves the stored set as it is.
 */
import { z } from "zod";
import { cleanName } from "../domain/names";

export const WHISTLE_TYPES = ["enforcement", "emergency", "key"] as const;
export type WhistleType = (typeof WHISTLE_TYPES)[number];

export const CHAT_ID_MESSAGE = "must look like oc_xxx (the chat's id)";
export const OPEN_ID_MESSAGE = "must look like ou_xxx (the person's open_id)";

const chatId = z
  .string({ error: CHAT_ID_MESSAGE })
  .trim()
  .regex(/^oc_[0-9A-Za-z]+$/, CHAT_ID_MESSAGE);
const openId = z
  .string({ error: OPEN_ID_MESSAGE })
  .trim()
  .regex(/^ou_[0-9A-Za-z]+$/, OPEN_ID_MESSAGE);

/** A display name: cleaned (NFKC, spaces collapsed), never empty. */
const unitName = z
  .string({ error: (iss) => (iss.input === undefined ? "is required" : "must be text (a name)") })
  .refine((s) => cleanName(s) !== "", "must not be empty")
  .transform(cleanName);

/** `- oc_xxx` is shorthand for `- { id: oc_xxx }`. */
const chatShorthand = (v: unknown) =>
  v === null || v === undefined || typeof v !== "object" || Array.isArray(v) ? { id: v } : v;

const departmentChat = z.preprocess(
  chatShorthand,
  z.strictObject({ id: chatId, card: z.boolean().optional(), name: unitName.optional() }),
);
const placeChat = z.preprocess(chatShorthand, z.strictObject({ id: chatId, name: unitName.optional() }));

const whole = (min: number, max: number, unit: string) => {
  const message = `must be a whole number of ${unit} from ${min} to ${max}`;
  return z.int(message).min(min, message).max(max, message);
};

/** Field names as in the file; they map one to one onto type_policies columns. */
export const policySchema = z.strictObject({
  report_limit_minutes: whole(1, 1440, "minutes").optional(),
  remind_before_minutes: whole(0, 1440, "minutes").optional(),
  escalate_every_minutes: whole(1, 1440, "minutes").optional(),
  escalate_max_times: whole(0, 100, "times").optional(),
  progress_every_hours: whole(1, 720, "hours").optional(),
  buzz_channels: z.array(z.enum(["sms", "phone"], 'must be "sms" or "phone"')).optional(),
});
export type PolicyFields = z.output<typeof policySchema>;
export type PolicyField = keyof PolicyFields;

const policies = z.strictObject({
  enforcement: policySchema.optional(),
  emergency: policySchema.optional(),
  key: policySchema.optional(),
});

const aliases = z.array(unitName);

const street = z.strictObject({
  name: unitName,
  kind: z.enum(["street", "township"], 'must be "street" (街道) or "township" (乡镇)').optional(),
  aliases: aliases.optional(),
  chats: z.array(placeChat).optional(),
  forces: z.array(unitName).optional(),
  policies: policies.optional(),
});

const department = z.strictObject({
  name: unitName,
  aliases: aliases.optional(),
  chats: z.array(departmentChat).optional(),
  duty: z.array(openId).optional(),
});

const oversight = z.strictObject({
  name: unitName,
  aliases: aliases.optional(),
  chats: z.array(placeChat).optional(),
});

export const directoryFileSchema = z.strictObject({
  admins: z.array(openId).optional(),
  policies: policies.optional(),
  streets: z.array(street).optional(),
  departments: z.array(department).optional(),
  oversight: z.array(oversight).optional(),
});

/** The file after validation: names cleaned, chat shorthands expanded. */
export type DirectoryFile = z.output<typeof directoryFileSchema>;
export type FileStreet = NonNullable<DirectoryFile["streets"]>[number];
export type FileDepartment = NonNullable<DirectoryFile["departments"]>[number];
export type FileOversight = NonNullable<DirectoryFile["oversight"]>[number];
export type FileChat = { id: string; card?: boolean; name?: string };
export type FilePolicies = NonNullable<FileStreet["policies"]>;

/** Every key the format knows, for "did you mean" hints on unknown ones. */
export const KNOWN_KEYS = [
  ...Object.keys(directoryFileSchema.shape),
  ...Object.keys(street.shape),
  ...Object.keys(department.shape),
  "id",
  "card",
  ...WHISTLE_TYPES,
  ...Object.keys(policySchema.shape),
];

/** A township (乡镇) unless told otherwise: names ending in 乡 or 镇. */
export function defaultPlaceKind(name: string): "street" | "township" {
  return /[乡镇]$/.test(name) ? "township" : "street";
}

export type FilePath = readonly (string | number)[];

/** `departments[2].chats[0].id` */
export function formatPath(path: FilePath): string {
  let out = "";
  for (const seg of path) out += typeof seg === "number" ? `[${seg}]` : out === "" ? seg : `.${seg}`;
  return out === "" ? "(top level)" : out;
}
