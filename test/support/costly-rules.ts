/**
 * Connector bodies built to cost the most CPU to save: each fills the 64 KB admin body with
 * `matches` leaves. Used by test/rules/cost.test.ts (CPU, in Node) and test/edge/rules-redos.test.ts
 * (the PUT inside workerd). Runs in both, so no Node or workerd imports.
 */

/** The admin body cap (worker/routes/read-json.ts MAX_ADMIN_BODY). */
export const BODY_CAP = 64 * 1024;

const leaf = (value: string, flags?: "i") => ({ path: "f", op: "matches", value, ...(flags ? { flags } : {}) });

/** `any` groups of 49 leaves, so the leaves sit as close to the top as the caps allow. */
function ruleSetOf(leaves: unknown[]) {
  const rules = [];
  for (let i = 0; i < leaves.length; i += 49) rules.push({ when: { any: leaves.slice(i, i + 49) }, destination: "1,9" });
  return rules;
}

function connector(url: string, leaves: unknown[]) {
  return { kind: "rest", url, recordPath: "data.customer", timeoutMs: 900, rules: ruleSetOf(leaves), default: "true", notFound: "false" };
}

/** As many leaves from `make` as fit the body cap. */
function filled(url: string, make: (n: number) => unknown) {
  const leaves: unknown[] = [];
  for (let n = 0; ; n++) {
    leaves.push(make(n));
    if (JSON.stringify(connector(url, leaves)).length > BODY_CAP) {
      leaves.pop();
      return connector(url, leaves);
    }
  }
}

/**
 * The slowest patterns to compile that are each within a pattern's caps (about 200 RE2
 * instructions by the text's estimate): Unicode classes, negated and case-folded classes.
 */
export const HEAVY_WITHIN_CAPS: ReadonlyArray<readonly [string, "i" | undefined]> = [
  ["\\pL\\pL\\pL\\pL", undefined],
  ["\\PL\\PL", "i"],
  ["(?i:\\W)".repeat(17), undefined],
  ["\\W".repeat(17), "i"],
  ["[^\\x{41}-\\x{1E943}]".repeat(8), undefined],
];

/** Bodies that must be refused at once; `why` is in the message. Each number makes a pattern unique. */
export function costlyBodies(url: string): Array<{ name: string; body: ReturnType<typeof connector>; why: RegExp }> {
  const heavy = (n: number) => {
    const [p, flags] = HEAVY_WITHIN_CAPS[n % HEAVY_WITHIN_CAPS.length]!;
    return leaf(`${p}|${n}`, flags);
  };
  return [
    // One pattern of this compiled to 16,000 instructions in 50–170 ms; a body held hundreds.
    { name: "\\pL{999} repeated in every leaf", body: filled(url, (n) => leaf(`\\pL{999}`.repeat(24) + `|${n}`)), why: /over 100/ },
    { name: "nested repeats in every leaf, within the node cap", body: connector(url, Array.from({ length: 290 }, (_, n) => leaf(`((\\pL{100}){10}){10}|${n}`))), why: /too large/ },
    { name: "the heaviest patterns within each pattern's caps, past the node cap", body: filled(url, heavy), why: /at most 300/ },
    { name: "the heaviest patterns within each pattern's caps, within the node cap", body: connector(url, Array.from({ length: 290 }, (_, n) => heavy(n))), why: /together are too large/ },
    {
      // Estimates within the budget, compiled sizes past it: compiling stops at the budget.
      name: "patterns compiling to twice their estimate",
      body: connector(url, Array.from({ length: 3 }, (_, n) => leaf(`(a{0,10}){0,10}|${n}`))),
      why: /too large/,
    },
  ];
}

/** The costliest rule set that is accepted: the connector's budget spent on the heaviest patterns. */
export function costliestAccepted(url: string, salt: number) {
  return connector(url, [leaf(`\\pL\\pL\\pL\\pL|${salt}`), leaf(`${"(?i:\\W)".repeat(17)}|${salt}`)]);
}
