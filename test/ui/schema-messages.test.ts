import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CUSTOMER_ID_PATTERN, SLUG_PATTERN } from "../../shared/ids.js";
import { dict } from "../../worker/ui/i18n.js";
import { issueText } from "../../worker/ui/issues.js";

const ROOT = resolve(import.meta.dirname, "../..");

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .filter((f) => !/\/worker\/(ui|demo)\//.test(f));
}

/**
 * Every sentence our own schemas write (a regex's name, a refinement's message), found in the
 * source: each must have its own sentence on the Spanish page, or a Spanish admin reads "not
 * valid" with no rule named. Template parts (`${n}`) become "0".
 */
function schemaMessages(): Array<{ file: string; code: "invalid_format" | "custom"; message: string; pattern?: string }> {
  const out: Array<{ file: string; code: "invalid_format" | "custom"; message: string; pattern?: string }> = [];
  for (const f of [...sources("shared"), ...sources("worker")]) {
    const text = readFileSync(f, "utf8");
    const file = relative(ROOT, f);
    for (const m of text.matchAll(/\.regex\(\s*(\/(?:\\.|[^/\n])+\/[a-z]*|[A-Z_]+)\s*,\s*"([^"]+)"/g)) {
      const pattern = m[1] === "SLUG_PATTERN" ? String(SLUG_PATTERN) : m[1] === "CUSTOMER_ID_PATTERN" ? String(CUSTOMER_ID_PATTERN) : m[1]!;
      out.push({ file, code: "invalid_format", message: m[2]!, pattern });
    }
    for (const m of text.matchAll(/message:\s*(?:"([^"]+)"|`([^`]+)`)/g)) out.push({ file, code: "custom", message: (m[1] ?? m[2]!).replace(/\$\{[^}]+\}/g, "0") });
    // A refinement's message given as its second argument: `.refine((x) => …, "message")`.
    if (file === "worker/env.ts") continue; // the worker's own settings: said at start-up to the operator, never on a page
    for (const m of text.matchAll(/\.refine\([^\n]*,\s*(?:"([^"]+)"|`([^`]+)`)\)/g)) out.push({ file, code: "custom", message: (m[1] ?? m[2]!).replace(/\$\{[^}]+\}/g, "0") });
  }
  return out;
}

describe("our schemas' messages on the Spanish page", () => {
  const found = schemaMessages();
  const generic = new Set([dict("es").issues.invalid, dict("es").issues.format]);

  it("finds the messages (the scan works)", () => {
    expect(found.length).toBeGreaterThan(25);
    expect(found.map((m) => m.message)).toContain("required to identify by caller number");
    expect(found.map((m) => m.message)).toContain("an absolute http(s) URL");
  });

  it("each has its own Spanish sentence, not 'not valid' or 'not in the expected format'", () => {
    const vague = found
      .filter((m) => generic.has(issueText("es", { code: m.code, path: [], message: m.message, ...(m.pattern ? { format: "regex", pattern: m.pattern } : {}) })))
      .map((m) => `${m.file}: ${m.message}`);
    expect(vague).toEqual([]);
  });
});
