import { MAX_CONDITION_DEPTH, ruleOp, type Condition } from "../../shared/rules.js";

/**
 * The rule builder's state: rules as the form holds them (raw text, nothing validated), with
 * their way to and from the API's JSON and to and from flat form fields. The schema checks the
 * JSON built from it, so the builder never decides what is valid; it only has to be exact:
 * JSON → draft → fields → draft → JSON gives back the same rules (rule-draft.test.ts).
 */
export type ValueType = "text" | "json" | "none";
export type DraftCondition =
  | { t: "cmp"; path: string; op: string; vt: ValueType; value: string; flags: boolean }
  | { t: "all" | "any"; children: DraftCondition[] }
  | { t: "not"; child: DraftCondition };
export type DraftDecision = { kind: "true" | "false" | "route"; type: string; id: string };
export type DraftRule = { when: DraftCondition; destination: DraftDecision };

export type Fields = Record<string, string>;

export const emptyComparison = (): DraftCondition => ({ t: "cmp", path: "", op: "eq", vt: "text", value: "", flags: false });
export const emptyRule = (): DraftRule => ({ when: emptyComparison(), destination: { kind: "true", type: "1", id: "" } });
export { MAX_CONDITION_DEPTH };

// A string an <input> cannot carry exactly (browsers drop line breaks) is shown as JSON instead.
const fitsInput = (s: string) => !/[\r\n]/.test(s);

export function conditionToDraft(c: Condition): DraftCondition {
  if ("all" in c) return { t: "all", children: c.all.map(conditionToDraft) };
  if ("any" in c) return { t: "any", children: c.any.map(conditionToDraft) };
  if ("not" in c) return { t: "not", child: conditionToDraft(c.not) };
  const v = c.value;
  const base = { t: "cmp" as const, path: c.path, op: c.op, flags: c.flags === "i" };
  if (v === undefined) return { ...base, vt: "none", value: "" };
  if (typeof v === "string" && fitsInput(v)) return { ...base, vt: "text", value: v };
  return { ...base, vt: "json", value: JSON.stringify(v) };
}

export function decisionToDraft(d: string): DraftDecision {
  if (d === "true" || d === "false") return { kind: d, type: "1", id: "" };
  const [type = "", id = ""] = d.split(",");
  return { kind: "route", type: type.trim(), id: id.trim() };
}

/** A value that is not JSON stays a marker the schema refuses, with the builder's message beside it. */
export const BAD_JSON = Symbol("bad json");

export function draftToCondition(d: DraftCondition, onBadJson: () => void = () => {}): unknown {
  switch (d.t) {
    case "all":
      return { all: d.children.map((x) => draftToCondition(x, onBadJson)) };
    case "any":
      return { any: d.children.map((x) => draftToCondition(x, onBadJson)) };
    case "not":
      return { not: draftToCondition(d.child, onBadJson) };
    case "cmp": {
      const out: Record<string, unknown> = { path: d.path, op: d.op };
      if (d.vt === "text") out.value = d.value;
      else if (d.vt === "json") {
        try {
          out.value = JSON.parse(d.value);
        } catch {
          onBadJson();
          out.value = { [BAD_JSON.description!]: d.value };
        }
      }
      if (d.flags) out.flags = "i";
      return out;
    }
  }
}

export const draftToDecision = (d: DraftDecision): string => (d.kind === "route" ? `${d.type},${d.id}` : d.kind);

// ---- flat form fields. A condition at prefix P: P.t, and for a comparison P.path, P.op, P.vt,
// P.value, P.flags; a group's children at P.0, P.1…; not's child at P.n.

export function conditionToFields(d: DraftCondition, p: string, out: Fields): Fields {
  out[`${p}.t`] = d.t;
  if (d.t === "cmp") {
    Object.assign(out, { [`${p}.path`]: d.path, [`${p}.op`]: d.op, [`${p}.vt`]: d.vt, [`${p}.value`]: d.value });
    if (d.flags) out[`${p}.flags`] = "i";
  } else if (d.t === "not") conditionToFields(d.child, `${p}.n`, out);
  else d.children.forEach((c, i) => conditionToFields(c, `${p}.${i}`, out));
  return out;
}

export function decisionToFields(d: DraftDecision, p: string, out: Fields): Fields {
  Object.assign(out, { [`${p}.kind`]: d.kind, [`${p}.type`]: d.type, [`${p}.id`]: d.id });
  return out;
}

export function rulesToFields(rules: DraftRule[], out: Fields = {}): Fields {
  rules.forEach((r, i) => {
    conditionToFields(r.when, `rules.${i}.when`, out);
    decisionToFields(r.destination, `rules.${i}.destination`, out);
  });
  return out;
}

/** The indices present under a prefix (P.0.t, P.3.t…), in order: a removed row leaves a gap. */
function indices(f: Fields, p: string, leaf: string): number[] {
  const re = new RegExp(`^${p.replace(/\./g, "\\.")}\\.(\\d+)\\.${leaf.replace(/\./g, "\\.")}$`);
  const out = new Set<number>();
  for (const k of Object.keys(f)) {
    const m = re.exec(k);
    if (m) out.add(Number(m[1]));
  }
  return [...out].sort((a, b) => a - b);
}

const NODE_TYPES = new Set(["cmp", "all", "any", "not"]);

export function conditionFromFields(f: Fields, p: string, depth = 0): DraftCondition {
  const t = NODE_TYPES.has(f[`${p}.t`] ?? "") && depth < MAX_CONDITION_DEPTH ? (f[`${p}.t`] as DraftCondition["t"]) : "cmp";
  if (t === "all" || t === "any") return { t, children: indices(f, p, "t").map((i) => conditionFromFields(f, `${p}.${i}`, depth + 1)) };
  if (t === "not") return { t, child: f[`${p}.n.t`] === undefined ? emptyComparison() : conditionFromFields(f, `${p}.n`, depth + 1) };
  const vt = f[`${p}.vt`];
  return {
    t: "cmp",
    path: f[`${p}.path`] ?? "",
    op: f[`${p}.op`] ?? "eq",
    vt: vt === "json" || vt === "none" ? vt : "text",
    value: f[`${p}.value`] ?? "",
    flags: f[`${p}.flags`] === "i",
  };
}

export function decisionFromFields(f: Fields, p: string): DraftDecision {
  const kind = f[`${p}.kind`];
  return { kind: kind === "false" || kind === "route" ? kind : "true", type: (f[`${p}.type`] ?? "").trim(), id: (f[`${p}.id`] ?? "").trim() };
}

export function rulesFromFields(f: Fields): DraftRule[] {
  return indices(f, "rules", "when.t").map((i) => ({
    when: conditionFromFields(f, `rules.${i}.when`),
    destination: decisionFromFields(f, `rules.${i}.destination`),
  }));
}

// ---- the builder's buttons: each names what it does and to which row, so it works as a plain submit.

/** Where a condition sits: the rule's index and the child indices down to it ("n" for not's child). */
type Steps = Array<number | "n">;

function parseAt(at: string): { rule: number; steps: Steps } | null {
  const m = /^rules\.(\d+)(?:\.when((?:\.(?:\d+|n))*))?$/.exec(at);
  if (!m) return null;
  const steps = (m[2] ?? "").split(".").filter(Boolean).map((s) => (s === "n" ? ("n" as const) : Number(s)));
  return { rule: Number(m[1]), steps: m[2] === undefined ? [] : steps };
}

function nodeAt(root: DraftCondition, steps: Steps): DraftCondition | null {
  let at: DraftCondition = root;
  for (const s of steps) {
    if (s === "n" && at.t === "not") at = at.child;
    else if (typeof s === "number" && (at.t === "all" || at.t === "any") && at.children[s]) at = at.children[s]!;
    else return null;
  }
  return at;
}

function move<T>(list: T[], i: number, by: -1 | 1): void {
  const j = i + by;
  if (i < 0 || j < 0 || i >= list.length || j >= list.length) return;
  [list[i], list[j]] = [list[j]!, list[i]!];
}

const fresh = (t: string): DraftCondition =>
  t === "all" || t === "any" ? { t, children: [emptyComparison()] } : t === "not" ? { t: "not", child: emptyComparison() } : emptyComparison();

/**
 * Applies one builder button to the rules: "add-rule", "up:rules.2", "down:rules.2.when.1",
 * "del:rules.0.when.n", "add:rules.1.when:any". An action naming nothing that exists is ignored.
 */
export function applyAction(rules: DraftRule[], action: string): DraftRule[] {
  const out = structuredClone(rules);
  if (action === "add-rule") return [...out, emptyRule()];
  const [verb, at = "", what = "cmp"] = action.split(":");
  const target = parseAt(at);
  if (!target || !out[target.rule]) return out;
  const rule = out[target.rule]!;
  if (!target.steps.length && at.indexOf(".when") < 0) {
    if (verb === "up") move(out, target.rule, -1);
    else if (verb === "down") move(out, target.rule, 1);
    else if (verb === "del") out.splice(target.rule, 1);
    return out;
  }
  if (verb === "add") {
    const node = nodeAt(rule.when, target.steps);
    if (node && (node.t === "all" || node.t === "any") && NODE_TYPES.has(what)) node.children.push(fresh(what));
    return out;
  }
  const last = target.steps.at(-1);
  const parent = nodeAt(rule.when, target.steps.slice(0, -1));
  if (typeof last === "number" && parent && (parent.t === "all" || parent.t === "any")) {
    if (verb === "up") move(parent.children, last, -1);
    else if (verb === "down") move(parent.children, last, 1);
    else if (verb === "del" && parent.children.length > 1) parent.children.splice(last, 1);
  }
  return out;
}

/**
 * After a node's type select changed without a button that rebuilds it: a group with no
 * children gets one empty comparison to fill, so the page always offers something to type.
 */
export function fillEmptyGroups(d: DraftCondition): DraftCondition {
  if (d.t === "all" || d.t === "any") return { t: d.t, children: d.children.length ? d.children.map(fillEmptyGroups) : [emptyComparison()] };
  if (d.t === "not") return { t: "not", child: fillEmptyGroups(d.child) };
  return d;
}

export const RULE_OPS = ruleOp.options;
