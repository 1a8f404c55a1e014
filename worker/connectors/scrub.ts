import { MAX_FIELD_TEXT } from "../rules/engine.js";
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

function tainted(text: string, needles: readonly string[]): boolean {
  return needles.some((n) => (n.length >= MIN_INNER_MATCH ? text.includes(n) : text === n));
}

/**
 * A read value without anything the edge sent. A text is cut to what the rules read of it
 * (MAX_FIELD_TEXT), so only its start is searched: up to the cut plus the longest needle, which
 * holds every needle that reaches into the part kept (one starting past it may redact, harmlessly). Each search then costs the same on a 1 MB
 * field as on a short one.
 */
function clean(v: unknown, needles: readonly string[], longest: number): unknown {
  if (typeof v === "string") {
    const kept = v.length > MAX_FIELD_TEXT ? v.slice(0, MAX_FIELD_TEXT) : v;
    return tainted(v.length > MAX_FIELD_TEXT ? v.slice(0, MAX_FIELD_TEXT + longest - 1) : v, needles) ? REDACTED : kept;
  }
  if (typeof v === "number" || typeof v === "boolean") return tainted(String(v), needles) ? REDACTED : v;
  if (Array.isArray(v)) return v.map((x) => clean(x, needles, longest));
  return v;
}

/**
 * Replaces, in a CRM record just parsed, every value the rules read that holds something the
 * edge sent (a credential, a token, a header): an echoing CRM must not turn the rules or the
 * test endpoint's "fields read" into a way to read a stored secret back.
 */
export function scrubRecord(record: unknown, paths: readonly string[], needles: readonly string[]): void {
  if (!needles.length) return;
  const longest = Math.max(...needles.map((n) => n.length));
  // Each value once, however many paths name it ("list.1", "list.01"…): what is searched is then
  // at most the reply itself, whatever the rules.
  const done = new Map<object, Set<string | number>>();
  for (const path of paths) {
    // The very element the path reads, however it spells a list index.
    const at = locate(record, path);
    if (at === null) continue;
    const keys = done.get(at.holder) ?? new Set<string | number>();
    if (keys.has(at.key)) continue;
    keys.add(at.key);
    done.set(at.holder, keys);
    const holder = at.holder as Record<string | number, unknown>;
    holder[at.key] = clean(holder[at.key], needles, longest);
  }
}
