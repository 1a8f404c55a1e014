import type { Condition, Rule } from "../../shared/rules.js";

function walk(c: Condition, out: Set<string>) {
  if ("all" in c) c.all.forEach((x) => walk(x, out));
  else if ("any" in c) c.any.forEach((x) => walk(x, out));
  else if ("not" in c) walk(c.not, out);
  else out.add(c.path);
}

/** Every record path a connector's rules read, in first-use order. */
export function rulePaths(rules: readonly Rule[]): string[] {
  const out = new Set<string>();
  for (const r of rules) walk(r.when, out);
  return [...out];
}
