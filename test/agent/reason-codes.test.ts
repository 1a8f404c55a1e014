import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isReason } from "../../shared/reasons.js";

const ROOTS = ["worker", "pbx-agent/src", "shared"];
// Lines that hand out a reason: a `reason` field or variable, a CrmError code, a chain fallback.
const REASON_LINE = /\breason\b|CrmError\(|fallback\(|FAULTS/;
// Snake-case words on such lines that are not reasons: an interaction type, a metric's kind label.
// Interaction names, a metric label and a caller-lookup state that sit on lines naming reasons.
const NOT_REASONS = new Set(["crm_true_false", "crm_url", "typed_ahead"]);
const CODE = /["'`]([a-z]+(?:_[a-z0-9]+)+(?::[a-z_]*)?)["'`$]/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [p] : [];
  });
}

describe("reason codes (shared/reasons.ts)", () => {
  it("every reason-like string the edge and the agent emit is in the shared list", () => {
    const unknown: string[] = [];
    let seen = 0;
    for (const file of ROOTS.flatMap(sources)) {
      if (file.endsWith("shared/reasons.ts")) continue;
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (!REASON_LINE.test(line)) return;
          for (const [, code] of line.matchAll(CODE)) {
            if (NOT_REASONS.has(code!)) continue;
            seen++;
            // A template's fixed head (`crm_http_${…}`) is checked with a sample tail.
            const sample = code!.endsWith("_") ? `${code}500` : code!.endsWith(":") ? `${code}edge_timeout` : code!;
            if (!isReason(sample)) unknown.push(`${file}:${i + 1} ${code}`);
          }
        });
    }
    expect(seen).toBeGreaterThan(30);
    expect(unknown).toEqual([]);
  });
});
