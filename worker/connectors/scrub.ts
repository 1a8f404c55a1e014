import { locate } from "./record.js";
import { splitSecrets } from "./secrets.js";

export const REDACTED = "[redacted]";
// Below this length a secret is matched whole, not inside longer text: "X" would hide everything.
const MIN_INNER_MATCH = 6;
// Headers that say how to talk, not who is talking: echoing them back reveals nothing.
const PLAIN_HEADERS = new Set(["accept", "content-type", "odata-maxversion", "odata-version"]);

/** Records what the edge sends to a CRM, so nothing it sent can come back as "the record". */
export class SentValues {
  readonly values = new Set<string>();
  headers(headers: HeadersInit | undefined) {
    for (const [name, value] of new Headers(headers)) {
      if (PLAIN_HEADERS.has(name)) continue;
      this.values.add(value);
      // "Bearer xyz", "Basic dXNlcjpwdw==": the credential alone may be echoed, too.
      const credential = /^\S+\s+(\S+)$/.exec(value)?.[1];
      if (credential) this.values.add(credential);
    }
  }
}

function utf8Base64(s: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(s)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Every stored secret and what the edge sent, in the forms a CRM might echo them in. */
export function edgeValues(config: unknown, secretPatterns: readonly string[], sent: SentValues | undefined): string[] {
  const out = new Set<string>(sent?.values ?? []);
  const secrets = splitSecrets(config, secretPatterns).secrets.map(([, v]) => v);
  const auth = (config as { auth?: { type?: string; username?: string; password?: string } }).auth;
  if (auth?.type === "basic" && auth.username !== undefined && auth.password !== undefined) out.add(utf8Base64(`${auth.username}:${auth.password}`));
  for (const s of secrets) {
    out.add(s);
    out.add(encodeURIComponent(s));
    out.add(new URLSearchParams({ s }).toString().slice(2));
    out.add(JSON.stringify(s).slice(1, -1));
    out.add(utf8Base64(s));
  }
  out.delete("");
  return [...out];
}

function tainted(v: string | number | boolean, needles: readonly string[]): boolean {
  const text = String(v);
  return needles.some((n) => (n.length >= MIN_INNER_MATCH ? text.includes(n) : text === n));
}

function clean(v: unknown, needles: readonly string[]): unknown {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return tainted(v, needles) ? REDACTED : v;
  if (Array.isArray(v)) return v.map((x) => clean(x, needles));
  return v;
}

/**
 * Replaces, in a CRM record just parsed, every value the rules read that holds something the
 * edge sent (a credential, a token, a header): an echoing CRM must not turn the rules or the
 * test endpoint's "fields read" into a way to read a stored secret back.
 */
export function scrubRecord(record: unknown, paths: readonly string[], needles: readonly string[]): void {
  if (!needles.length) return;
  for (const path of paths) {
    // The very element the path reads, however it spells a list index.
    const at = locate(record, path);
    if (at === null) continue;
    const holder = at.holder as Record<string | number, unknown>;
    holder[at.key] = clean(holder[at.key], needles);
  }
}
