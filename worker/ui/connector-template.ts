import { z } from "zod";
import { connectorModules } from "../connectors/registry.js";

type JsonSchema = {
  type?: string;
  default?: unknown;
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
};

// Hand-written where a worked example says more than a list of fields.
const EXAMPLES: Record<string, unknown> = {
  webhook: { url: "https://crm.example.com/omnileads/identify" },
  rest: {
    method: "GET",
    url: "https://crm.example.com/api/customers/{idContact}",
    recordPath: "data.customer",
    rules: [{ when: { path: "plan", op: "eq", value: "gold" }, destination: "1,3" }],
    default: "true",
    notFound: "false",
  },
};
// Shown in their own form fields, so not in the JSON box.
const COMMON = new Set(["kind", "timeoutMs", "cache"]);

function placeholder(s: JsonSchema): unknown {
  if (s.const !== undefined) return s.const;
  if (s.default !== undefined) return s.default;
  const variant = s.oneOf?.[0] ?? s.anyOf?.[0];
  if (variant) return placeholder(variant);
  switch (s.type) {
    case "object":
      return Object.fromEntries((s.required ?? []).map((k) => [k, placeholder(s.properties?.[k] ?? {})]));
    case "array":
      return [];
    case "number":
    case "integer":
      return 0;
    case "boolean":
      return false;
    default:
      return "";
  }
}

/**
 * The required fields of a kind, read from its own zod schema (so a new CRM module gets a
 * starting point with no UI change), plus the rule fields when the kind has rules.
 */
function fromSchema(schema: z.ZodType): unknown {
  const js = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const out: Record<string, unknown> = {};
  for (const k of js.required ?? []) if (!COMMON.has(k)) out[k] = placeholder(js.properties?.[k] ?? {});
  if (js.properties?.rules) Object.assign(out, { rules: [], default: "true", notFound: "false" });
  return out;
}

const cache = new Map<string, string>();

export function connectorTemplate(kind: string): string {
  let t = cache.get(kind);
  if (t === undefined) {
    const m = connectorModules.find((x) => x.kind === kind);
    let value: unknown = EXAMPLES[kind] ?? {};
    if (!EXAMPLES[kind] && m) {
      try {
        value = fromSchema(m.schema);
      } catch {
        value = {};
      }
    }
    t = JSON.stringify(value, null, 2);
    cache.set(kind, t);
  }
  return t;
}
