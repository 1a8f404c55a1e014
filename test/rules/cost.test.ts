// Runs in the node project on purpose: inside workerd performance.now() only advances on I/O,
// so CPU spent in the pure rules engine can only be measured here.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { compilePattern, MAX_PATTERN_PROGRAM, patternCost, MAX_RULE_NODES, MAX_RULES_PROGRAM, ruleSet } from "../../shared/rules.js";
import { connectorConfig } from "../../worker/connectors/registry.js";
import { applyRules, MAX_FIELD_TEXT } from "../../worker/rules/engine.js";
import { connectorModule } from "../../worker/connectors/registry.js";
import { edgeValues, scrubRecord, SentValues } from "../../worker/connectors/scrub.js";
import { REPLY_CAP } from "../../worker/connectors/reply-budget.js";
import { z } from "zod";
import { BODY_CAP, costliestAccepted, costlyBodies, HEAVY_WITHIN_CAPS } from "../support/costly-rules.js";

const rulesSchema = z.object(ruleSet);

/** Patterns chosen to defeat RE2's DFA (so it falls back to its slower linear engines) or that backtrack in JavaScript. */
const HOSTILE = [
  "((?:.|\\n){10}){5}$",
  "(\\pL|\\d|\\s){20}$",
  "^B-(1|1)*2$",
  "^B-((1+))+2$",
  "\\d*\\d*\\d*\\d*\\d*x",
  "(?:1|11)+2",
  "(a|a)*b",
  "(a+)+$",
  "(.*)*x",
  "^((([a-z]*)*)*?)+$",
  "(a|aa|aaa|1|11|111|é|éé|😀)*y$",
];

/** Fills every cap: program budget on the nastiest patterns, the rest of the nodes on `in` lists of 100 values, nothing ever matching. */
function worstRules(salt: number, fields: readonly string[]) {
  const leaves: unknown[] = [];
  let program = 0;
  // Largest first, until the connector's budget is spent (compiled size, or the estimate from the text when larger).
  const sized = HOSTILE.map((p, i) => ({ value: `${p}|q${salt}`, flags: i % 2 ? ("i" as const) : undefined }))
    .map((c) => ({ ...c, size: Math.max(compilePattern(c.value, c.flags).programSize(), patternCost(c.value, c.flags) as number) }))
    .sort((x, y) => y.size - x.size);
  for (let round = 0; round < 10; round++)
    for (const [i, c] of sized.entries()) {
      if (c.size > MAX_PATTERN_PROGRAM || program + c.size > MAX_RULES_PROGRAM) continue;
      program += c.size;
      const f = (i + round) % fields.length;
      const leaf = { path: `f.${f}`, op: "matches", value: c.value, ...(c.flags ? { flags: c.flags } : {}) };
      // A pattern that holds on this record is negated, so that no rule ever matches and every node is evaluated.
      // Asked of its own compiled copy, so the engine's cache stays cold for the measured run.
      const holds = compilePattern(c.value, c.flags).test(fields[f]!.slice(0, MAX_FIELD_TEXT));
      leaves.push(holds ? { not: leaf } : leaf);
    }
  expect(program).toBeGreaterThan(MAX_RULES_PROGRAM * 0.9);
  // The other nodes: `in` lists of 100 near-miss values, the deepest path, comparisons on long fields.
  const deepPath = Array.from({ length: 99 }, () => "d").join(".") + ".v";
  const inValues = Array.from({ length: 100 }, (_, i) => "x".repeat(490) + String(i));
  const nots = leaves.filter((l) => typeof l === "object" && l !== null && "not" in l).length;
  while (leaves.length + nots < MAX_RULE_NODES) {
    const n = leaves.length;
    leaves.push(
      n % 3 === 0 ? { path: `f.${n % 4}`, op: "in", value: inValues } : n % 3 === 1 ? { path: deepPath, op: "gte", value: "A".repeat(500) } : { path: `f.${n % 4}`, op: "lt", value: 0 },
    );
  }
  // Rules are `any` groups of at most 49 leaves; none matches, so every node is evaluated.
  const rules = [];
  for (let i = 0; i < leaves.length; ) {
    // Fit the node cap exactly: one `any` node per rule plus its leaves (and their `not`s).
    const take = Math.min(49, MAX_RULE_NODES - i - nots - rules.length - 1);
    if (take <= 0) break;
    rules.push({ when: { any: leaves.slice(i, i + take) }, destination: "1,1" });
    i += take;
  }
  return rules;
}

const nodes = (c: unknown): number =>
  typeof c !== "object" || c === null ? 0 : "any" in c ? 1 + (c.any as unknown[]).reduce<number>((n, x) => n + nodes(x), 0) : "not" in c ? 1 + nodes(c.not) : 1;

// 1 MB: long strings where the rules look, a 100-deep object for the deepest path, a big array besides.
const FIELDS = ["1".repeat(250_000), "é".repeat(250_000), "a1".repeat(125_000), "😀".repeat(100_000)];
function worstRecord(): unknown {
  const f = FIELDS;
  let deep: unknown = { v: "9".repeat(100_000) };
  for (let i = 0; i < 99; i++) deep = { d: deep };
  return { f, d: (deep as { d: unknown }).d, big: Array.from({ length: 20_000 }, (_, i) => i) };
}

describe("rule evaluation cost is bounded whatever the record", () => {
  it("the worst rule set within the caps on a 1 MB record takes well under 50 ms of CPU", () => {
    const record = worstRecord();
    expect(JSON.stringify(record).length).toBeGreaterThan(900_000);
    // Warm the engine's own code as a serving isolate would be; each measured run then compiles its patterns afresh.
    const warm = rulesSchema.parse({ rules: worstRules(-1, FIELDS) });
    expect(warm.rules.reduce((n, r) => n + nodes(r.when), 0)).toBeGreaterThan(MAX_RULE_NODES - 5);
    applyRules(warm, record);
    const cpu: number[] = [];
    const wall: number[] = [];
    for (let run = 0; run < 5; run++) {
      const set = rulesSchema.parse({ rules: worstRules(run, FIELDS) });
      // CPU time, not wall time: on a loaded machine the wall clock also counts other processes' turns.
      const c = process.cpuUsage();
      const t = performance.now();
      const out = applyRules(set, record);
      wall.push(performance.now() - t);
      const used = process.cpuUsage(c);
      cpu.push((used.user + used.system) / 1000);
      expect(out.rule).toBe("default");
    }
    const ms = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(", ");
    console.log(`worst rule set on a 1 MB record: CPU ${ms(cpu)} ms; wall ${ms(wall)} ms`);
    expect(Math.max(...cpu)).toBeLessThan(50);
  });

  it("patterns kept across calls do not keep their DFA states: memory stays bounded", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const shapes = ["((?:.|\\n){10}){5}$", "(\\pL|\\d|\\s){20}$", "(a|b)*a(a|b){15}$", "(?:[a-z]|1)*a.{60}$"];
    const random = () => Array.from({ length: 1000 }, () => "ab1é x"[Math.floor(Math.random() * 6)]).join("");
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let k = 0; k < 200; k++) {
      const set = rulesSchema.parse({ rules: [{ when: { path: "f", op: "matches", value: `${shapes[k % shapes.length]}|q${k}` }, destination: "1,1" }] });
      for (let i = 0; i < 20; i++) applyRules(set, { f: random() });
    }
    gc();
    const grown = (process.memoryUsage().heapUsed - before) / 1e6;
    console.log(`200 hostile patterns kept, 20 records each: heap +${grown.toFixed(1)} MB`);
    // Keeping the DFA states took about 1.5 MB a pattern here (300 MB); an isolate has 128 MB.
    expect(grown).toBeLessThan(20);
  });
});

describe("saving rules costs little CPU, whatever the body", () => {
  const conn = connectorConfig;
  const cpuOf = (f: () => void) => {
    const c = process.cpuUsage();
    f();
    const used = process.cpuUsage(c);
    return (used.user + used.system) / 1000;
  };

  it("each 64 KB body of the costliest patterns is refused in well under 50 ms of CPU", () => {
    // The heavy patterns are each within a pattern's caps, so only the rule set's caps can refuse them.
    for (const [p, flags] of HEAVY_WITHIN_CAPS) expect(patternCost(`${p}|999`, flags), p).toBeLessThanOrEqual(MAX_PATTERN_PROGRAM);
    for (const { name, body, why } of costlyBodies("https://crm.example/{idContact}")) {
      expect(JSON.stringify(body).length, name).toBeLessThanOrEqual(BODY_CAP);
      conn.safeParse(body); // warm the validator's own code, as a serving isolate would be
      let r: ReturnType<typeof conn.safeParse> | undefined;
      const cpu = cpuOf(() => (r = conn.safeParse(body)));
      console.log(`${name}: ${(JSON.stringify(body).length / 1024).toFixed(0)} KB refused in ${cpu.toFixed(1)} ms of CPU`);
      expect(r!.success, name).toBe(false);
      expect(r!.error!.issues.map((i) => i.message).join("\n"), name).toMatch(why);
      expect(cpu, name).toBeLessThan(50);
    }
  });

  it("the costliest rule set that is accepted compiles in well under 50 ms of CPU", () => {
    conn.parse(costliestAccepted("https://crm.example/{idContact}", -1));
    const cpu = cpuOf(() => conn.parse(costliestAccepted("https://crm.example/{idContact}", 1)));
    console.log(`costliest accepted rules compiled in ${cpu.toFixed(1)} ms of CPU`);
    expect(cpu).toBeLessThan(50);
  });
});

describe("the scrub of what the edge sent (issue 9.1's second line) costs no more than the rules", () => {
  /** A rest connector with as many headers as its schema takes inside an admin body (64 KiB), each value slow to search for. */
  function mostHeaders(value: (i: number) => string) {
    let headers: Record<string, string> = {};
    const config = (h: Record<string, string>) => ({ kind: "rest", url: "https://crm.example/{idContact}", headers: h, auth: { type: "bearer", token: value(-1) }, default: "true" });
    for (let i = 0; ; i++) {
      const next = { ...headers, [`h${i}`]: value(i) };
      if (JSON.stringify(config(next)).length > 60_000 || !connectorConfig.safeParse(config(next)).success) break;
      headers = next;
    }
    const parsed = connectorConfig.parse(config(headers));
    if (parsed.kind !== "rest") throw new Error("a rest config");
    return parsed;
  }

  for (const [name, value, text] of [
    // "aaaab…" in a text of "a": every position is a near miss for every needle.
    ["short near misses", (i: number) => `aaaab${i}`, "a"],
    ["long near misses", (i: number) => `Bearer ${"a".repeat(4000)}b${i}`, "a"],
    ["bearer tokens", (i: number) => `Bearer ${"a".repeat(60)}${i}`, "a"],
  ] as const) {
    it(`${name}: the most headers a rest connector takes, a full-size reply read by 300 paths (aliases included), well under 50 ms of CPU`, () => {
      const config = mostHeaders(value);
      const sent = new SentValues();
      sent.headers({ Accept: "application/json", ...config.headers, Authorization: `Bearer ${value(-1)}` });
      const needles = edgeValues(config, connectorModule("rest").secrets, sent);
      // A reply as large as a record may be: one field as long as the reply, and 100 list elements
      // each named by three spellings of its index, plus 100 more fields.
      const size = REPLY_CAP.record;
      const paths = ["big", ...Array.from({ length: 100 }, (_, i) => [`list.${i}`, `list.0${i}`, `list.00${i}`]).flat(), ...Array.from({ length: 99 }, (_, i) => `f${i}`)];
      const record = () => ({
        big: text.repeat(size),
        list: Array.from({ length: 100 }, () => text.repeat(size / 100)),
        ...Object.fromEntries(Array.from({ length: 99 }, (_, i) => [`f${i}`, text.repeat(size / 100)])),
      });
      const cpu: number[] = [];
      for (let run = 0; run < 3; run++) {
        const r = record();
        const c = process.cpuUsage();
        scrubRecord(r, paths, needles);
        const used = process.cpuUsage(c);
        cpu.push((used.user + used.system) / 1000);
      }
      console.log(`scrub, ${name}: ${Object.keys(config.headers ?? {}).length} headers, ${needles.length} needles, CPU ${cpu.map((x) => x.toFixed(1)).join(", ")} ms`);
      expect(Math.max(...cpu)).toBeLessThan(50);
    });
  }
});
