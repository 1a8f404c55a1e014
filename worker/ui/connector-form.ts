import { connectorModule, connectorModules, type ConnectorConfig } from "../connectors/registry.js";
import { splitSecrets } from "../connectors/secrets.js";
import type { Issue } from "../services/errors.js";
import type { FieldErrors } from "./fields.js";

/** The connector form's raw fields and their way to and from the PUT body; the schema does the checking. */
export type ConnectorForm = Record<string, string>;
const COMMON = ["id", "kind", "timeoutMs", "cache.ttlSeconds", "cache.negativeTtlSeconds", "cache.staleIfErrorSeconds", "config"] as const;
export const SECRET_PREFIX = "secret:";

export function configToForm(id: string, config: ConnectorConfig): ConnectorForm {
  const { kind, timeoutMs, cache, ...rest } = config;
  return {
    id,
    kind,
    timeoutMs: String(timeoutMs),
    "cache.ttlSeconds": String(cache.ttlSeconds),
    "cache.negativeTtlSeconds": String(cache.negativeTtlSeconds),
    "cache.staleIfErrorSeconds": String(cache.staleIfErrorSeconds),
    config: JSON.stringify(rest, null, 2),
  };
}

function secretPatterns(kind: unknown): readonly string[] {
  return typeof kind === "string" && connectorModules.some((m) => m.kind === kind) ? connectorModule(kind).secrets : [];
}

/** Where a config holds secrets: "auth.token", "headers.X-Api-Key"… */
export function secretPaths(config: { kind: string } | null): string[] {
  if (!config) return [];
  return splitSecrets(config, secretPatterns(config.kind)).secrets.map(([p]) => p.join("."));
}

/** The JSON box as sent back after an error: typed secrets replaced by "***", like stored ones. */
export function maskedEcho(input: Record<string, unknown>): string {
  const { masked } = splitSecrets(input, secretPatterns(input.kind));
  const { kind: _kind, timeoutMs: _timeout, cache: _cache, ...rest } = masked;
  return JSON.stringify(rest, null, 2);
}

function setPath(obj: Record<string, unknown>, path: string, value: string): boolean {
  const parts = path.split(".");
  let at: unknown = obj;
  for (const p of parts.slice(0, -1)) {
    at = at && typeof at === "object" ? (at as Record<string, unknown>)[p] : undefined;
  }
  if (!at || typeof at !== "object" || Array.isArray(at)) return false;
  (at as Record<string, unknown>)[parts.at(-1)!] = value;
  return true;
}

const num = (s: string | undefined) => (s === undefined || s.trim() === "" ? undefined : Number(s.trim()));

/** The form as the PUT body: the JSON box, the common fields over it, and any new secret values. */
export function formToInput(f: ConnectorForm, errors: FieldErrors, badJson: string): Record<string, unknown> | null {
  let extra: unknown;
  try {
    extra = JSON.parse(f.config?.trim() || "{}");
  } catch (e) {
    errors.config = `${badJson} ${e instanceof Error ? e.message : ""}`.trim();
    return null;
  }
  if (!extra || typeof extra !== "object" || Array.isArray(extra)) {
    errors.config = `${badJson} {…}`;
    return null;
  }
  const input: Record<string, unknown> = {
    ...(extra as Record<string, unknown>),
    kind: f.kind ?? "",
    timeoutMs: num(f.timeoutMs),
    cache: { ttlSeconds: num(f["cache.ttlSeconds"]), negativeTtlSeconds: num(f["cache.negativeTtlSeconds"]), staleIfErrorSeconds: num(f["cache.staleIfErrorSeconds"]) },
  };
  for (const [k, v] of Object.entries(f)) {
    if (k.startsWith(SECRET_PREFIX) && v !== "") setPath(input, k.slice(SECRET_PREFIX.length), v);
  }
  return input;
}

/** zod issues on the common fields go next to them; everything kind-specific goes under the JSON box. */
export function connectorIssues(issues: readonly Issue[]): FieldErrors {
  const out: FieldErrors = {};
  for (const { path, message } of issues) {
    const field = (COMMON as readonly string[]).includes(path) ? path : "config";
    const line = field === "config" && path ? `${path}: ${message}` : message;
    out[field] = out[field] ? `${out[field]}; ${line}` : line;
  }
  return out;
}

