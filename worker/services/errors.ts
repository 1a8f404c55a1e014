import type { z } from "zod";
import { SLUG_PATTERN } from "../../shared/ids.js";

/**
 * What went wrong, in the domain's words: a stable snake_case code (STYLE) and a message, never an
 * HTTP status. `http/errors.ts` turns a code into a status once; the admin pages map the same
 * errors onto their fields.
 */
export type DomainCode =
  // the caller
  | "unauthorized"
  | "forbidden"
  | "admin_key_in_url"
  | "too_many_failed_auth"
  | "rate_limited"
  | "crm_quota"
  // the request
  | "validation_failed"
  | "invalid_tenant_id"
  | "invalid_connector_id"
  | "invalid_node_id"
  | "invalid_id"
  | "missing_id_contact"
  | "caller_number_unusable"
  | "bad_json"
  | "bad_body"
  | "body_too_large"
  | "unsupported_media_type"
  | "secret_required"
  // the data
  | "not_found"
  | "connector_in_use"
  // the deployment
  | "encryption_key_missing";

/** One input problem at a path of the payload ("cache.ttlSeconds", "connector"), for field-level display. */
export type Issue = {
  path: string;
  message: string;
  /** zod's code and parameters (minimum, format, values…), for the admin pages' own wording; never sent by the API. */
  detail?: Readonly<Record<string, unknown>>;
};

export class DomainError extends Error {
  constructor(
    readonly code: DomainCode,
    message: string,
    /** For validation_failed: each problem at its path, so a form can show it next to its field. */
    readonly issues: readonly Issue[] = [],
  ) {
    super(message);
  }
}

/**
 * A stored secret kept by "***" while where it is sent changed: it must be typed again, so a
 * tenant admin who never knew it cannot send it to a server of their choosing.
 */
export class SecretRequired extends DomainError {
  constructor(
    readonly secrets: string[],
    readonly destinations: string[],
  ) {
    super("secret_required", `${destinations.join(", ")} changed: re-enter ${secrets.join(", ")} (a stored secret is only sent where it was entered for)`);
  }
}

/** The connector's quota guard has no token for a call that must not wait (the admin's test): try again after `retryAfterSeconds`. */
export class QuotaRefused extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super("crm_quota", `the CRM quota for this connector is used up: the CRM was not called; try again in ${retryAfterSeconds} s`);
  }
}

export const notFound = (what: string) => new DomainError("not_found", `${what} not found`);

type ZodLikeIssue = { path: PropertyKey[]; message: string; code?: string };
const DETAIL = ["code", "expected", "origin", "minimum", "maximum", "inclusive", "format", "pattern", "values", "keys"] as const;
const detailOf = (i: object) => Object.fromEntries(DETAIL.filter((k) => k in i).map((k) => [k, (i as Record<string, unknown>)[k]]));

/**
 * A record's bad key (a header name) arrives as "Invalid key in record" with the real rule
 * nested; the nested issue, at the key's path, is the one that says what is wrong.
 */
function unwrapKey(i: ZodLikeIssue): ZodLikeIssue {
  const inner = i.code === "invalid_key" ? (i as { issues?: ZodLikeIssue[] }).issues?.[0] : undefined;
  return inner ? { ...inner, path: i.path } : i;
}

/** A failed schema parse as one validation error: the first few issues in the message, all of them by path. */
export function validationFailed(issues: ReadonlyArray<ZodLikeIssue | Issue>): DomainError {
  const list: Issue[] = issues.map((i) => {
    if (typeof i.path === "string") return i as Issue;
    const z = unwrapKey(i as ZodLikeIssue);
    return { path: z.path.map(String).join("."), message: z.message, ...("code" in z ? { detail: detailOf(z) } : {}) };
  });
  const text = list
    .slice(0, 5)
    .map((i) => `${i.path || "body"}: ${i.message}`)
    .join("; ");
  return new DomainError("validation_failed", text, list);
}

/** Options for a schema parse, e.g. an error map that puts zod's messages in the page's language. */
export type ParseParams = Parameters<z.ZodType["safeParse"]>[1];

/** `input` as `schema` reads it, or validation_failed naming every issue by path. */
export function parseOrFail<S extends z.ZodType>(schema: S, input: unknown, params?: ParseParams): z.output<S> {
  const r = schema.safeParse(input, params);
  if (!r.success) throw validationFailed(r.error.issues);
  return r.data;
}

/** An id from a URL: lower-case letters, digits and '-' (SLUG_PATTERN), else `code`. */
export function parseId(raw: string | undefined, code: Extract<DomainCode, `invalid_${string}_id`>, what: string): string {
  if (raw === undefined || !SLUG_PATTERN.test(raw)) throw new DomainError(code, `${what} ids are lower-case letters, digits and '-'`);
  return raw;
}
