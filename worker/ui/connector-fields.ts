import { z } from "zod";
import { fieldRoles, SECRET_MASK } from "../../shared/connector.js";
import { decision } from "../../shared/destination.js";
import { ruleSet, type Condition } from "../../shared/rules.js";
import {
  conditionToDraft,
  decisionFromFields,
  decisionToDraft,
  decisionToFields,
  draftToCondition,
  draftToDecision,
  rulesFromFields,
  rulesToFields,
  type Fields,
} from "./rule-draft.js";

/**
 * A connector kind's form, read from its zod schema: one control per field, so a new CRM module
 * gets its form with no UI change. This file is the pure part (schema → field list, config ↔
 * flat form fields); connector-form-view.tsx draws it.
 */
export type FormField =
  | { kind: "text" | "number" | "secret" | "lines"; name: string; key: string; required: boolean; default?: unknown }
  | { kind: "enum"; name: string; key: string; required: boolean; options: string[]; default?: unknown; boolean?: true }
  | { kind: "decision"; name: string; key: string; default?: unknown }
  | { kind: "rules"; name: string; key: string }
  | { kind: "record"; name: string; key: string; secret: boolean }
  | { kind: "group"; name: string; key: string; optional: boolean; fields: FormField[] }
  | { kind: "union"; name: string; key: string; optional: boolean; discriminator: string; variants: Array<{ value: string; fields: FormField[] }> };

type Unwrapped = { inner: z.ZodType; optional: boolean; default?: unknown };

function unwrap(s: z.ZodType): Unwrapped {
  let optional = false;
  let dflt: unknown;
  let at = s;
  for (;;) {
    if (at instanceof z.ZodOptional) optional = true;
    else if (at instanceof z.ZodDefault) {
      optional = true;
      dflt = at.def.defaultValue;
    } else if (!(at instanceof z.ZodNullable)) break;
    at = at.unwrap() as z.ZodType;
  }
  return { inner: at, optional, ...(dflt !== undefined ? { default: dflt } : {}) };
}

const isSecret = (s: z.ZodType): boolean => {
  for (let at: z.ZodType | undefined = s; at; at = at instanceof z.ZodOptional || at instanceof z.ZodDefault ? (at.unwrap() as z.ZodType) : undefined) {
    if (fieldRoles.get(at)?.role === "secret") return true;
  }
  return false;
};

function fieldOf(key: string, name: string, s: z.ZodType): FormField | null {
  const u = unwrap(s);
  const d = u.default !== undefined ? { default: u.default } : {};
  const inner = u.inner;
  if (s === ruleSet.rules) return { kind: "rules", name, key };
  if (inner === decision) return { kind: "decision", name, key, ...d };
  if (isSecret(s)) return { kind: "secret", name, key, required: !u.optional };
  if (inner instanceof z.ZodLiteral) return null;
  if (inner instanceof z.ZodEnum) return { kind: "enum", name, key, required: !u.optional, options: inner.options.map(String), ...d };
  // A switch (webhook sendCallerNumber) is a two-option select, sent back as a JSON boolean.
  if (inner instanceof z.ZodBoolean) return { kind: "enum", name, key, required: !u.optional, options: ["false", "true"], boolean: true, ...d };
  if (inner instanceof z.ZodNumber) return { kind: "number", name, key, required: !u.optional, ...d };
  if (inner instanceof z.ZodArray) return { kind: "lines", name, key, required: !u.optional, ...d };
  if (inner instanceof z.ZodRecord) return { kind: "record", name, key, secret: isSecret(inner.valueType as z.ZodType) };
  if (inner instanceof z.ZodDiscriminatedUnion) {
    const discriminator = String(inner.def.discriminator);
    const variants = (inner.options as z.ZodObject[]).map((o) => {
      const lit = o.shape[discriminator] as z.ZodLiteral;
      return { value: String(lit.value), fields: objectFields(o, name, [discriminator]) };
    });
    return { kind: "union", name, key, optional: u.optional, discriminator, variants };
  }
  if (inner instanceof z.ZodObject) return { kind: "group", name, key, optional: u.optional && u.default === undefined, fields: objectFields(inner, name) };
  return { kind: "text", name, key, required: !u.optional, ...d };
}

function objectFields(o: z.ZodObject, prefix: string, skip: string[] = []): FormField[] {
  return Object.entries(o.shape).flatMap(([k, v]) => {
    if (skip.includes(k)) return [];
    const f = fieldOf(k, prefix ? `${prefix}.${k}` : k, v as z.ZodType);
    return f ? [f] : [];
  });
}

// eslint-disable-next-line no-restricted-syntax -- keyed by the kinds' schema objects: as many entries as there are kinds
const cached = new Map<z.ZodType, FormField[]>();
/** The kind's fields in the schema's order (kind itself is the page's own control). */
export function formFields(schema: z.ZodType): FormField[] {
  let f = cached.get(schema);
  if (!f) {
    f = schema instanceof z.ZodObject ? objectFields(schema, "", ["kind"]) : [];
    cached.set(schema, f);
  }
  return f;
}

// ---- config → fields (what the page shows)

const get = (o: unknown, k: string): unknown => (o && typeof o === "object" && !Array.isArray(o) ? (o as Record<string, unknown>)[k] : undefined);
const text = (v: unknown): string => (v === undefined || v === null ? "" : typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v));

/**
 * The form's values for a config (a stored one, "***" for its secrets, or a new one). Absent
 * fields show their schema default, so the documented defaults are what a new form starts with.
 */
export function configToFields(fields: FormField[], config: unknown, out: Fields = {}): Fields {
  for (const f of fields) {
    const v = get(config, f.key);
    switch (f.kind) {
      case "secret":
        // Never a value: the page says whether one is stored.
        break;
      case "rules":
        rulesToFields(((v as Array<{ when: Condition; destination: string }>) ?? []).map((r) => ({ when: conditionToDraft(r.when), destination: decisionToDraft(r.destination) })), out);
        break;
      case "decision":
        decisionToFields(decisionToDraft(typeof v === "string" ? v : text(f.default)), f.name, out);
        break;
      case "lines":
        out[f.name] = Array.isArray(v) ? v.map(text).join("\n") : Array.isArray(f.default) ? f.default.map(text).join("\n") : "";
        break;
      case "record":
        Object.entries((v as Record<string, unknown>) ?? {}).forEach(([k, x], i) => {
          out[`${f.name}.${i}.name`] = k;
          if (!f.secret) out[`${f.name}.${i}.value`] = text(x);
        });
        break;
      case "group":
        configToFields(f.fields, v ?? (f.optional ? undefined : {}), out);
        break;
      case "union": {
        const chosen = text(get(v, f.discriminator));
        out[`${f.name}.${f.discriminator}`] = chosen;
        const variant = f.variants.find((x) => x.value === chosen);
        if (variant) configToFields(variant.fields, v, out);
        break;
      }
      default:
        out[f.name] = text(v === undefined ? f.default : v);
    }
  }
  return out;
}

// ---- fields → config (what is sent to the store)

const blank = (s: string | undefined) => s === undefined || s.trim() === "";

function number(s: string): unknown {
  const n = Number(s.trim());
  // Not a number: the text itself, so the schema says what it expected.
  return Number.isFinite(n) ? n : s;
}

export type Parse = {
  /** The stored (masked) config: a secret left empty keeps its stored value where one is. */
  stored: unknown;
  /** Messages the form itself found (a JSON value that does not parse), by field name. */
  errors: Fields;
  badJson: string;
};

function recordRows(f: Fields, name: string): number[] {
  const re = new RegExp(`^${name.replace(/\./g, "\\.")}\\.(\\d+)\\.name$`);
  return [...new Set(Object.keys(f).flatMap((k) => (re.exec(k) ? [Number(re.exec(k)![1])] : [])))].sort((a, b) => a - b);
}

/** The PUT body for the fields of one object level; undefined where the form left a field empty. */
export function fieldsToConfig(fields: FormField[], f: Fields, p: Parse): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (k: string, v: unknown) => {
    if (v !== undefined) out[k] = v;
  };
  for (const x of fields) {
    const raw = f[x.name];
    switch (x.kind) {
      case "text":
        set(x.key, blank(raw) ? undefined : raw!.trim());
        break;
      case "number":
        set(x.key, blank(raw) ? undefined : number(raw!));
        break;
      case "enum":
        set(x.key, blank(raw) ? undefined : x.boolean ? raw === "true" : raw);
        break;
      case "secret":
        // Empty keeps the stored secret (sent as "***", the API's own "keep"), if there is one.
        set(x.key, raw ? raw : get(p.stored, x.key) === SECRET_MASK ? SECRET_MASK : undefined);
        break;
      case "lines": {
        const lines = (raw ?? "").split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
        set(x.key, lines.length ? lines : undefined);
        break;
      }
      case "decision":
        set(x.key, draftToDecision(decisionFromFields(f, x.name)));
        break;
      case "rules":
        set(
          x.key,
          rulesFromFields(f).map((r, i) => ({
            when: draftToCondition(r.when, () => (p.errors[`rules.${i}.when`] = p.badJson)),
            destination: draftToDecision(r.destination),
          })),
        );
        break;
      case "record": {
        const stored = get(p.stored, x.key);
        const entries = recordRows(f, x.name).flatMap((i) => {
          const name = (f[`${x.name}.${i}.name`] ?? "").trim();
          const value = f[`${x.name}.${i}.value`] ?? "";
          if (!name) return [];
          // A secret header left empty keeps the stored value under the same name.
          if (x.secret && value === "") return get(stored, name) === SECRET_MASK ? [[name, SECRET_MASK]] : [[name, ""]];
          return [[name, value]];
        });
        set(x.key, entries.length ? Object.fromEntries(entries) : undefined);
        break;
      }
      case "group": {
        const inner = fieldsToConfig(x.fields, f, { ...p, stored: get(p.stored, x.key) });
        // An optional block where nothing but its prefilled defaults is set (e.g. HubSpot's `oauth`
        // with only its documented token URL) was left empty: it is absent, its default applies.
        const typed = Object.keys(inner).filter((k) => {
          const field = x.fields.find((ff) => ff.key === k);
          return !(field && "default" in field && JSON.stringify(field.default) === JSON.stringify(inner[k]));
        });
        set(x.key, x.optional && !typed.length ? undefined : inner);
        break;
      }
      case "union": {
        const chosen = f[`${x.name}.${x.discriminator}`] ?? "";
        const variant = x.variants.find((v) => v.value === chosen);
        if (!variant) {
          set(x.key, x.optional && blank(chosen) ? undefined : { [x.discriminator]: chosen });
          break;
        }
        const stored = get(p.stored, x.key);
        const sameVariant = get(stored, x.discriminator) === chosen ? stored : undefined;
        set(x.key, { [x.discriminator]: chosen, ...fieldsToConfig(variant.fields, f, { ...p, stored: sameVariant }) });
        break;
      }
    }
  }
  return out;
}
