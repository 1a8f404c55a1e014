import { SECRET_MASK } from "../../shared/connector.js";

type Path = string[];
export type SecretEntries = Array<[Path, string]>;

/** Concrete paths of the strings in `config` matching field patterns ("auth.token", "headers.*"). */
function stringPaths(config: unknown, patterns: readonly string[]): Path[] {
  const out: Path[] = [];
  const walk = (node: unknown, pattern: string[], at: Path) => {
    if (pattern.length === 0) {
      if (typeof node === "string") out.push(at);
      return;
    }
    if (node === null || typeof node !== "object" || Array.isArray(node)) return;
    const [head, ...rest] = pattern as [string, ...string[]];
    const keys = head === "*" ? Object.keys(node) : Object.hasOwn(node, head) ? [head] : [];
    for (const k of keys) walk((node as Record<string, unknown>)[k], rest, [...at, k]);
  };
  for (const p of patterns) walk(config, p.split("."), []);
  return out;
}

function get(obj: unknown, path: Path): unknown {
  return path.reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
}
function set(obj: unknown, path: Path, value: string) {
  const parent = get(obj, path.slice(0, -1));
  if (parent && typeof parent === "object") (parent as Record<string, unknown>)[path.at(-1)!] = value;
}

/** The config with every secret replaced by "***", and the secrets apart. */
export function splitSecrets<T>(config: T, patterns: readonly string[]): { masked: T; secrets: SecretEntries } {
  const masked = structuredClone(config);
  const secrets: SecretEntries = [];
  for (const p of stringPaths(config, patterns)) {
    secrets.push([p, get(config, p) as string]);
    set(masked, p, SECRET_MASK);
  }
  return { masked, secrets };
}

export function mergeSecrets<T>(masked: T, secrets: SecretEntries): T {
  const full = structuredClone(masked);
  for (const [p, v] of secrets) if (get(full, p) === SECRET_MASK) set(full, p, v);
  return full;
}

type Bindings = { secrets: readonly string[]; destinations: ReadonlyArray<{ pattern: string; compare: "origin" | "url" | "name" }> };

function compared(value: unknown, compare: "origin" | "url" | "name"): string {
  const text = String(value);
  if (compare === "name") return text.trim().toLowerCase();
  try {
    const u = new URL(text);
    return compare === "origin" ? u.origin : `${u.origin}${u.pathname}${u.search}`;
  } catch {
    return text;
  }
}

/** Each destination field present in `config`, as it is compared. */
function destinationsOf(config: unknown, destinations: Bindings["destinations"]): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of destinations) {
    for (const p of stringPaths(config, [d.pattern])) out.set(p.join("."), compared(get(config, p), d.compare));
  }
  return out;
}

/** The destination fields that differ between two configs; a change of kind changes them all. */
export function changedDestinations(before: { kind: string }, after: { kind: string }, destinations: Bindings["destinations"]): string[] {
  if (before.kind !== after.kind) return ["kind"];
  const a = destinationsOf(before, destinations);
  const b = destinationsOf(after, destinations);
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

/**
 * A PUT may send "***" for a secret it does not want to change (the GET output PUT back
 * unchanged keeps working); returns the paths still masked with nothing stored for them.
 * A stored secret stays bound to where it was entered for: when a destination changes,
 * `rebound` names the secrets kept by "***" that must be typed again, and the fields that moved.
 */
export function keepStoredSecrets<T extends { kind: string }>(
  incoming: T,
  stored: { config: { kind: string }; secrets: SecretEntries } | null,
  bindings: Bindings,
): { config: T; missing: string[]; rebound: { secrets: string[]; destinations: string[] } | null } {
  const kept = stringPaths(incoming, bindings.secrets).filter((p) => get(incoming, p) === SECRET_MASK);
  const moved = stored && kept.length ? changedDestinations(stored.config, incoming, bindings.destinations) : [];
  const rebound = moved.length ? { secrets: kept.map((p) => p.join(".")), destinations: moved } : null;
  // Only into fields that are secrets of the incoming config: a stored secret must never land in a
  // field shown in clear (another kind's plain field at the same path, with "***" typed there).
  const keptAt = new Set(kept.map((p) => JSON.stringify(p)));
  const config = mergeSecrets(incoming, (stored?.secrets ?? []).filter(([p]) => keptAt.has(JSON.stringify(p))));
  const missing = stringPaths(config, bindings.secrets)
    .filter((p) => get(config, p) === SECRET_MASK)
    .map((p) => p.join("."));
  return { config, missing, rebound };
}
