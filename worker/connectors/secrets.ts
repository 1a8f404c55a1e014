import { SECRET_MASK } from "../../shared/connector.js";

type Path = string[];
export type SecretEntries = Array<[Path, string]>;

/** Concrete paths in `config` matching the module's secret patterns ("auth.token", "headers.*"). */
function secretPaths(config: unknown, patterns: readonly string[]): Path[] {
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
  for (const p of secretPaths(config, patterns)) {
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

/**
 * A PUT may send "***" for a secret it does not want to change (the GET output PUT back
 * unchanged keeps working); returns the paths still masked with nothing stored for them.
 */
export function keepStoredSecrets<T>(incoming: T, stored: SecretEntries, patterns: readonly string[]): { config: T; missing: string[] } {
  const config = mergeSecrets(incoming, stored);
  const missing = secretPaths(config, patterns)
    .filter((p) => get(config, p) === SECRET_MASK)
    .map((p) => p.join("."));
  return { config, missing };
}
