import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { destinationsFile } from "../../../shared/destinations-file.js";
import type { NodeConfigInput } from "../../../shared/node.js";
import { node as nodeSchema } from "../../../shared/node.js";
import type { DialplanTarget } from "../../../shared/destinations-file.js";
import type { LookupResult, lookupCustomer } from "../edge/client.js";
import type { NodeLookup } from "../nodes/node-source.js";
import type { CallChannel, CallStop, Playback } from "./call-channel.js";
import { callerNumberToSend, DEFAULT_CONFIRM_CALLER_MEDIA, mediaUri, runCall, type CallDeps } from "./run-node.js";

/** The caller: for the n-th prompt played, which keys to press and when (ms after the prompt starts), or hang up. */
type Script = (media: string, n: number) => { keys?: Array<[number, string]>; hangupAt?: number };

const PROMPT_MS = 1000;

class MemoryChannel implements CallChannel {
  readonly id = "call-1";
  private readonly ac = new AbortController();
  readonly signal = this.ac.signal;
  readonly commands: string[] = [];
  private listeners = new Set<(d: string, at: number) => void>();
  private plays = 0;
  private routed = false;
  constructor(
    private readonly script: Script,
    private readonly caller = "",
  ) {}
  async answer() {
    this.commands.push("answer");
  }
  async callerNumber() {
    this.commands.push("callerNumber");
    return this.caller;
  }
  play(media: string): Playback {
    this.commands.push(`play ${media}`);
    let done!: () => void;
    const ended = new Promise<void>((r) => (done = r));
    const t = setTimeout(done, PROMPT_MS);
    const plan = this.script(media, this.plays++);
    for (const [at, digit] of plan.keys ?? []) setTimeout(() => this.press(digit), at);
    if (plan.hangupAt !== undefined) setTimeout(() => this.end({ code: "hangup" }), plan.hangupAt);
    return {
      ended,
      stop: () => {
        this.commands.push(`stop ${media}`);
        clearTimeout(t);
        done();
      },
    };
  }
  onDtmf(l: (d: string, at: number) => void) {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }
  press(digit: string) {
    for (const l of [...this.listeners]) l(digit, Date.now());
  }
  end(stop: CallStop) {
    if (!this.routed || stop.code === "shutdown") this.ac.abort(stop);
  }
  async setVariable(name: string, value: string) {
    this.commands.push(`set ${name}=${value}`);
  }
  async continueInDialplan(t: DialplanTarget) {
    this.commands.push(`continue ${t.context},${t.extension},${t.priority}`);
  }
  async hangup() {
    this.commands.push("hangup");
  }
  markRouted() {
    this.routed = true;
  }
  get dtmfListeners() {
    return this.listeners.size;
  }
}

const destinations = destinationsFile.parse({
  default: { context: "crm-bridge-route", extension: "{type}-{id}", priority: 1 },
  fallback: { context: "crm-bridge-fallback", extension: "s", priority: 1 },
});

function nodes(defs: Record<string, NodeConfigInput>): CallDeps["nodes"] {
  return {
    get: async (tenant, id): Promise<NodeLookup> => {
      const d = defs[id];
      return d ? { node: { ...nodeSchema.parse({ id, ...d }), id, tenant }, origin: "memory" } : { node: null, reason: "not_found" };
    },
  };
}

const base = { audio: "sound:enter-id", successDestination: { type: 1, id: 10 }, failureDestination: { type: 3, id: 20 } } as const;

function deps(defs: Record<string, NodeConfigInput>, answer?: (id: string, signal?: AbortSignal) => Promise<LookupResult>): CallDeps & { asked: string[] } {
  const asked: string[] = [];
  const lookup: typeof lookupCustomer = async (target, who, opts) => {
    // A number lookup shows as "tel:<number>" beside the typed ids.
    const id = typeof who === "string" ? who : `tel:${who.callerNumber}`;
    asked.push(id);
    return answer ? answer(id, opts.signal) : { ok: false, reason: "edge_unreachable", ms: 0 };
  };
  return { nodes: nodes(defs), destinations, edge: { baseUrl: "http://edge", key: "k" }, edgeTimeoutMs: 2000, lookup, now: () => Date.now(), asked };
}

const keys = (s: string, from = 1500, gap = 200): Array<[number, string]> => [...s].map((d, i) => [from + i * gap, d]);
const reply = (destination: string, status: "ok" | "fail" = "ok") => async (): Promise<LookupResult> => ({ ok: true, reply: { status, destination }, ms: 5 });

async function run(ch: MemoryChannel, d: CallDeps, node = "n") {
  const p = runCall(ch, "acme", node, d);
  await vi.advanceTimersByTimeAsync(120_000);
  return p;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** The channel's commands when the call is answered, `first` gets the id, and the node routes `id` to 1-10. */
const answeredThenSucceeded = (first: string, id: string): string[] => [
  "answer",
  first,
  `set __OMLCODCLI=${id}`,
  `set CUSTOMER_ID=${id}`,
  "set CRM_BRIDGE_OUTCOME=success",
  "set CRM_BRIDGE_DEST_TYPE=1",
  "set CRM_BRIDGE_DEST_ID=10",
  "continue crm-bridge-route,1-10,1",
];

describe("runCall, mode none", () => {
  it("valid first try: answer, prompt, variables, continue to success", async () => {
    const ch = new MemoryChannel(() => ({ keys: keys("4321#") }));
    const r = await run(ch, deps({ n: { ...base, name: "n", interaction: "none" } }));
    expect(r).toMatchObject({ outcome: "success", customerId: "**21", attempts: 1, route: "dialplan" });
    expect(ch.commands).toEqual(answeredThenSucceeded("play sound:enter-id", "4321"));
    expect(ch.dtmfListeners).toBe(0);
  });

  it("barge-in stops the prompt, expectedLength ends input", async () => {
    const ch = new MemoryChannel(() => ({ keys: keys("123", 300, 100) }));
    const r = await run(ch, deps({ n: { ...base, name: "n", interaction: "none", expectedLength: 3 } }));
    expect(r.outcome).toBe("success");
    expect(ch.commands.slice(0, 3)).toEqual(["answer", "play sound:enter-id", "stop sound:enter-id"]);
  });

  it("valid on a later attempt: wrong length, then '#' early, then right", async () => {
    const tries = [keys("12"), keys("12#"), keys("1234")];
    const ch = new MemoryChannel((_m, n) => ({ keys: tries[n] }));
    const r = await run(ch, deps({ n: { ...base, name: "n", interaction: "none", expectedLength: 4, attempts: 3 } }));
    expect(r).toMatchObject({ outcome: "success", attempts: 3 });
    expect(ch.commands.filter((c) => c.startsWith("play"))).toHaveLength(3);
    expect(ch.commands).toContain("set CUSTOMER_ID=1234");
  });

  it("attempts exhausted (silence): invalid, to the failure destination, no id set", async () => {
    const ch = new MemoryChannel(() => ({}));
    const r = await run(ch, deps({ n: { ...base, name: "n", interaction: "none", attempts: 2, timeoutSeconds: 2 } }));
    expect(r).toMatchObject({ outcome: "invalid", attempts: 2, destination: { type: 3, id: 20 } });
    expect(ch.commands.filter((c) => c.startsWith("set"))).toEqual(["set CRM_BRIDGE_OUTCOME=invalid", "set CRM_BRIDGE_DEST_TYPE=3", "set CRM_BRIDGE_DEST_ID=20"]);
    expect(ch.commands.at(-1)).toBe("continue crm-bridge-route,3-20,1");
  });

  it("confirmed: digits read back, 1 accepts", async () => {
    const ch = new MemoryChannel((m) => ({ keys: m.startsWith("sound:digits/") ? [[1200, "1"]] : keys("777#") }));
    const r = await run(ch, deps({ n: { ...base, name: "n", interaction: "none", confirm: true } }));
    expect(r.outcome).toBe("success");
    expect(ch.commands).toContain("play sound:digits/7,sound:digits/7,sound:digits/7");
  });

  it("not confirmed: another key, or silence for 5 s, costs the try", async () => {
    const ch = new MemoryChannel((m, n) => ({ keys: m.startsWith("sound:digits/") ? (n === 1 ? [[1200, "2"]] : []) : keys("777#") }));
    const r = await run(ch, deps({ n: { ...base, name: "n", interaction: "none", confirm: true, attempts: 2 } }));
    expect(r).toMatchObject({ outcome: "invalid", attempts: 2 });
    expect(ch.commands.filter((c) => c === "play sound:digits/7,sound:digits/7,sound:digits/7")).toHaveLength(2);
  });
});

describe("runCall, CRM modes", () => {
  const tf = { ...base, name: "n", interaction: "crm_true_false" as const, connector: "crm" };
  const cd = { ...base, name: "n", interaction: "crm_destination" as const, connector: "crm" };
  it.each([
    ["crm_true_false", tf, reply("true"), "success", "1-10"],
    ["crm_true_false", tf, reply("false"), "failure", "3-20"],
    ["crm_true_false", tf, reply("2,7"), "failure", "3-20"],
    ["crm_true_false", tf, reply("true", "fail"), "failure", "3-20"],
    ["crm_destination", cd, reply("2,7"), "crm", "2-7"],
    ["crm_destination", cd, reply("true"), "success", "1-10"],
    ["crm_destination", cd, reply("false"), "failure", "3-20"],
    ["crm_destination", cd, async (): Promise<LookupResult> => ({ ok: false, reason: "edge_timeout", ms: 2000 }), "timeout", "3-20"],
    ["crm_destination", cd, async (): Promise<LookupResult> => ({ ok: false, reason: "edge_http_500", ms: 3 }), "failure", "3-20"],
  ] as const)("%s %#: → %s", async (_m, def, answer, outcome, ext) => {
    const ch = new MemoryChannel(() => ({ keys: keys("55#") }));
    const d = deps({ n: def }, answer);
    const r = await run(ch, d);
    expect(r.outcome).toBe(outcome);
    expect(d.asked).toEqual(["55"]);
    expect(ch.commands.at(-1)).toBe(`continue crm-bridge-route,${ext},1`);
    expect(ch.commands).toContain(`set CRM_BRIDGE_OUTCOME=${outcome}`);
  });

  it("the CRM is never asked about an invalid id", async () => {
    const ch = new MemoryChannel(() => ({ keys: keys("1*2#") }));
    const d = deps({ n: cd }, reply("true"));
    expect((await run(ch, d)).outcome).toBe("invalid");
    expect(d.asked).toEqual([]);
  });
});

describe("runCall, routing", () => {
  it("type 5 hangs up after setting the variables", async () => {
    const ch = new MemoryChannel(() => ({ keys: keys("9#") }));
    await run(ch, deps({ n: { ...base, name: "n", interaction: "none", successDestination: { type: 5, id: 1 } } }));
    expect(ch.commands.slice(-2)).toEqual(["set CRM_BRIDGE_DEST_ID=1", "hangup"]);
  });

  it("type 9 runs the next node in the same call", async () => {
    const ch = new MemoryChannel(() => ({ keys: keys("42#") }));
    const r = await run(ch, deps({ n: { ...base, name: "n", interaction: "none", successDestination: { type: 9, id: 2 } }, "2": { ...base, name: "two", interaction: "none", audio: "sound:second" } }));
    expect(r.chain).toEqual(["n", "2"]);
    expect(ch.commands.filter((c) => c === "answer")).toHaveLength(1);
    expect(ch.commands).toContain("play sound:second");
    expect(ch.commands.at(-1)).toBe("continue crm-bridge-route,1-10,1");
  });

  it("a chain longer than 5 ends at the failure destination", async () => {
    const loop = { ...base, name: "loop", interaction: "none" as const, successDestination: { type: 9, id: 1 } };
    const ch = new MemoryChannel(() => ({ keys: keys("1#") }));
    const r = await run(ch, deps({ n: loop, "1": loop }));
    expect(r).toMatchObject({ outcome: "failure", reason: "chain_limit" });
    expect(r.chain).toHaveLength(5);
    expect(ch.commands.at(-1)).toBe("continue crm-bridge-route,3-20,1");
  });

  it("no node at all: the fallback target", async () => {
    const ch = new MemoryChannel(() => ({}));
    const r = await run(ch, deps({}));
    expect(r).toMatchObject({ outcome: "failure", route: "fallback" });
    expect(ch.commands).toEqual(["set CRM_BRIDGE_OUTCOME=failure", "continue crm-bridge-fallback,s,1"]);
  });
});

describe("runCall, the caller hangs up", () => {
  const cd = { ...base, name: "n", interaction: "crm_destination" as const, connector: "crm", confirm: true };
  it.each([
    ["during the prompt", () => ({ hangupAt: 300 })],
    ["while typing", () => ({ keys: keys("12", 1200), hangupAt: 1400 })],
    ["during the read-back", (m: string) => (m.startsWith("sound:digits/") ? { hangupAt: 200 } : { keys: keys("12#") })],
  ] as const)("%s: abandoned, nothing sent after", async (_n, script) => {
    const ch = new MemoryChannel(script as Script);
    const d = deps({ n: cd }, reply("true"));
    const r = await run(ch, d);
    expect(r.outcome).toBe("abandoned");
    expect(ch.commands.some((c) => c.startsWith("set") || c.startsWith("continue"))).toBe(false);
    expect(ch.dtmfListeners).toBe(0);
  });

  it("during the edge request: the request is aborted", async () => {
    let aborted = false;
    const ch = new MemoryChannel((m) => (m.startsWith("sound:digits/") ? { keys: [[100, "1"]] } : { keys: keys("12#") }));
    setTimeout(() => ch.end({ code: "hangup" }), 3000);
    const d = deps({ n: cd }, (_id, signal) =>
      new Promise<LookupResult>((resolve) => signal?.addEventListener("abort", () => ((aborted = true), resolve({ ok: false, reason: "aborted", ms: 1 })))),
    );
    const r = await run(ch, d);
    expect(aborted).toBe(true);
    expect(r.outcome).toBe("abandoned");
  });

  it("shutdown mid-input: the failure destination", async () => {
    const ch = new MemoryChannel(() => ({ keys: keys("1", 1200) }));
    setTimeout(() => ch.end({ code: "shutdown" }), 1500);
    const r = await run(ch, deps({ n: cd }, reply("true")));
    expect(r).toMatchObject({ outcome: "failure", reason: "shutdown" });
    expect(ch.commands.at(-1)).toBe("continue crm-bridge-route,3-20,1");
  });
});

describe("runCall, identification by caller number (issue 12)", () => {
  const KNOWN = "+34911234567";
  const byNumber = (answers: Record<string, LookupResult>, typed: LookupResult = { ok: true, reply: { status: "ok", destination: "true" }, ms: 5 }) => async (id: string) =>
    id.startsWith("tel:") ? (answers[id.slice(4)] ?? { ok: true, reply: { status: "ok", destination: "false" }, ms: 5 }) : typed;
  const found = (destination = "true", idContact = "5550123"): LookupResult => ({ ok: true, reply: { status: "ok", destination, idContact }, ms: 5 });
  const tf = { ...base, name: "n", interaction: "crm_true_false", connector: "crm" } as const;
  const plays = (ch: MemoryChannel) => ch.commands.filter((c) => c.startsWith("play"));

  it("known number: routed at once, no prompt, the ids set to the matched customer", async () => {
    const ch = new MemoryChannel(() => ({}), KNOWN);
    const d = deps({ n: { ...tf, identifyBy: "caller_number_then_dtmf" } }, byNumber({ [KNOWN]: found() }));
    const r = await run(ch, d);
    expect(r).toMatchObject({ outcome: "success", reason: "crm_true", identifiedBy: "caller_number", callerLookup: "found", customerId: "*****23", attempts: 0 });
    expect(d.asked).toEqual([`tel:${KNOWN}`]);
    expect(plays(ch)).toEqual([]);
    expect(ch.commands).toEqual(answeredThenSucceeded("callerNumber", "5550123"));
    expect(ch.dtmfListeners).toBe(0);
  });

  it("known number, the CRM's answer about that customer decides (crm_destination, false)", async () => {
    const cdNode = { ...tf, interaction: "crm_destination", identifyBy: "caller_number" } as const;
    const r1 = await run(new MemoryChannel(() => ({}), KNOWN), deps({ n: cdNode }, byNumber({ [KNOWN]: found("2,7") })));
    expect(r1).toMatchObject({ outcome: "crm", destination: { type: 2, id: 7 }, identifiedBy: "caller_number" });
    const r2 = await run(new MemoryChannel(() => ({}), KNOWN), deps({ n: { ...cdNode, interaction: "crm_true_false" } }, byNumber({ [KNOWN]: found("false") })));
    expect(r2).toMatchObject({ outcome: "failure", reason: "crm_false", identifiedBy: "caller_number" });
  });

  it("mode none with caller_number: a known number is success, an unknown one the failure destination", async () => {
    const none = { ...base, name: "n", interaction: "none", connector: "crm", identifyBy: "caller_number" } as const;
    const ch = new MemoryChannel(() => ({}), KNOWN);
    const r = await run(ch, deps({ n: none }, byNumber({ [KNOWN]: found("true", "42") })));
    expect(r).toMatchObject({ outcome: "success", identifiedBy: "caller_number" });
    expect(ch.commands).toContain("set CUSTOMER_ID=42");
    const ch2 = new MemoryChannel(() => ({}), "+34911000000");
    const r2 = await run(ch2, deps({ n: none }, byNumber({ [KNOWN]: found() })));
    expect(r2).toMatchObject({ outcome: "failure", reason: "caller_number_not_found", destination: { type: 3, id: 20 }, identifiedBy: null });
    expect(plays(ch2)).toEqual([]);
    expect(ch2.commands.some((c) => c.includes("CUSTOMER_ID"))).toBe(false);
  });

  it("unknown, ambiguous (no idContact, status fail) and edge failures: then_dtmf prompts, caller_number fails", async () => {
    const cases: Array<[string, LookupResult, string, string]> = [
      ["unknown", { ok: true, reply: { status: "ok", destination: "false" }, ms: 1 }, "caller_number_not_found", "failure"],
      ["ambiguous", { ok: true, reply: { status: "fail", destination: "false" }, ms: 1, bridgeReason: "ambiguous" }, "ambiguous", "failure"],
      // An edge that says nothing of why (an older one): not found, as before.
      ["fail without a reason", { ok: true, reply: { status: "fail", destination: "false" }, ms: 1 }, "caller_number_not_found", "failure"],
      ["edge down", { ok: false, reason: "edge_unreachable", ms: 1 }, "edge_unreachable", "failure"],
      ["edge slow", { ok: false, reason: "edge_timeout", ms: 2000 }, "edge_timeout", "timeout"],
    ];
    for (const [what, answer, reason, outcome] of cases) {
      const ch = new MemoryChannel(() => ({ keys: keys("4321#") }), KNOWN);
      const d = deps({ n: { ...tf, identifyBy: "caller_number_then_dtmf" } }, byNumber({ [KNOWN]: answer }));
      const r = await run(ch, d);
      expect(r, what).toMatchObject({ outcome: "success", identifiedBy: "dtmf", customerId: "**21", attempts: 1 });
      expect(d.asked, what).toEqual([`tel:${KNOWN}`, "4321"]);
      expect(plays(ch), what).toEqual(["play sound:enter-id"]);

      const ch2 = new MemoryChannel(() => ({ keys: keys("4321#") }), KNOWN);
      const r2 = await run(ch2, deps({ n: { ...tf, identifyBy: "caller_number" } }, byNumber({ [KNOWN]: answer })));
      expect(r2, what).toMatchObject({ outcome, reason, destination: { type: 3, id: 20 }, attempts: 0 });
      expect(plays(ch2), what).toEqual([]);
    }
  });

  it("withheld and unusable numbers never reach the edge", async () => {
    for (const raw of ["", "anonymous", "Restricted", "sip:anonymous@anonymous.invalid", "+0000000", "12"]) {
      const ch = new MemoryChannel(() => ({ keys: keys("4321#") }), raw);
      const d = deps({ n: { ...tf, identifyBy: "caller_number_then_dtmf" } }, byNumber({}));
      const r = await run(ch, d);
      expect(r, raw).toMatchObject({ outcome: "success", identifiedBy: "dtmf", callerLookup: "unusable" });
      expect(d.asked, raw).toEqual(["4321"]);

      const d2 = deps({ n: { ...tf, identifyBy: "caller_number" } }, byNumber({}));
      const r2 = await run(new MemoryChannel(() => ({}), raw), d2);
      expect(r2, raw).toMatchObject({ outcome: "failure", reason: "caller_number_unusable" });
      expect(d2.asked, raw).toEqual([]);
    }
  });

  it("confirmCaller: 1 accepts; another key or silence falls back to the prompt", async () => {
    const node = { n: { ...tf, identifyBy: "caller_number", confirmCaller: true } } as const;
    const accept = new MemoryChannel((m) => ({ keys: m === DEFAULT_CONFIRM_CALLER_MEDIA ? [[800, "1"]] : keys("4321#") }), KNOWN);
    const r = await run(accept, deps(node, byNumber({ [KNOWN]: found() })));
    expect(r).toMatchObject({ outcome: "success", identifiedBy: "caller_number", callerLookup: "found" });
    expect(plays(accept)).toEqual([`play ${DEFAULT_CONFIRM_CALLER_MEDIA}`]);
    expect(accept.commands).toContain("set CUSTOMER_ID=5550123");

    const refusals: Array<[string, Array<[number, string]>]> = [["2", [[800, "2"]]], ["silence", []]];
    for (const [what, confirmKeys] of refusals) {
      const ch = new MemoryChannel((m) => ({ keys: m === DEFAULT_CONFIRM_CALLER_MEDIA ? [...confirmKeys] : keys("4321#") }), KNOWN);
      const d = deps(node, byNumber({ [KNOWN]: found() }));
      const r2 = await run(ch, d);
      expect(r2, what).toMatchObject({ outcome: "success", identifiedBy: "dtmf", callerLookup: "refused", customerId: "**21" });
      expect(plays(ch), what).toEqual([`play ${DEFAULT_CONFIRM_CALLER_MEDIA}`, "play sound:enter-id"]);
      expect(ch.commands, what).toContain("set CUSTOMER_ID=4321");
      expect(ch.commands, what).not.toContain("set CUSTOMER_ID=5550123");
      expect(d.asked, what).toEqual([`tel:${KNOWN}`, "4321"]);
      // Silence: the confirm waits its 5 s (CONFIRM_TIMEOUT_MS), then the prompt.
      if (what === "silence") expect(r2.timings.totalMs).toBeGreaterThanOrEqual(5000);
    }
  });

  it("type-ahead: keys pressed during the number lookup are the id when the prompt follows (not played)", async () => {
    const ch = new MemoryChannel(() => ({}), KNOWN);
    const d = deps({ n: { ...tf, identifyBy: "caller_number_then_dtmf", expectedLength: 4 } }, async (id) => {
      if (!id.startsWith("tel:")) return { ok: true, reply: { status: "ok", destination: "true" }, ms: 5 };
      for (const k of "1234") {
        await new Promise((r) => setTimeout(r, 50));
        ch.press(k);
      }
      return { ok: true, reply: { status: "ok", destination: "false" }, ms: 200 };
    });
    const r = await run(ch, d);
    expect(r).toMatchObject({ outcome: "success", identifiedBy: "dtmf", customerId: "**34", attempts: 1 });
    expect(d.asked).toEqual([`tel:${KNOWN}`, "1234"]);
    expect(plays(ch)).toEqual([]);
  });

  it("type-ahead, partial: the prompt's wait continues the typed digits; with confirmCaller a match typed over is not confirmed", async () => {
    const ch = new MemoryChannel(() => ({}), KNOWN);
    setTimeout(() => ch.press("9"), 10);
    setTimeout(() => ch.press("8"), 400);
    setTimeout(() => ch.press("7"), 500);
    setTimeout(() => ch.press("#"), 600);
    const d = deps({ n: { ...tf, identifyBy: "caller_number_then_dtmf", confirmCaller: true } }, async (id) => {
      if (!id.startsWith("tel:")) return { ok: true, reply: { status: "ok", destination: "true" }, ms: 5 };
      await new Promise((r) => setTimeout(r, 100));
      return found();
    });
    const r = await run(ch, d);
    expect(r).toMatchObject({ outcome: "success", identifiedBy: "dtmf", callerLookup: "typed_ahead", customerId: "*87" });
    expect(d.asked).toEqual([`tel:${KNOWN}`, "987"]);
    expect(plays(ch)).toEqual([]);
  });

  it("hang-up during the number lookup: the request aborted, abandoned, nothing sent after; shutdown: the failure destination", async () => {
    let aborted = false;
    const ch = new MemoryChannel(() => ({}), KNOWN);
    setTimeout(() => ch.end({ code: "hangup" }), 300);
    const d = deps({ n: { ...tf, identifyBy: "caller_number_then_dtmf" } }, (_id, signal) =>
      new Promise<LookupResult>((resolve) => signal?.addEventListener("abort", () => ((aborted = true), resolve({ ok: false, reason: "aborted", ms: 1 })))),
    );
    const r = await run(ch, d);
    expect(aborted).toBe(true);
    expect(r.outcome).toBe("abandoned");
    expect(ch.commands).toEqual(["answer", "callerNumber"]);

    const ch2 = new MemoryChannel(() => ({}), KNOWN);
    setTimeout(() => ch2.end({ code: "shutdown" }), 300);
    const d2 = deps({ n: { ...tf, identifyBy: "caller_number_then_dtmf" } }, (_id, signal) =>
      new Promise<LookupResult>((resolve) => signal?.addEventListener("abort", () => resolve({ ok: false, reason: "aborted", ms: 1 }))),
    );
    const r2 = await run(ch2, d2);
    expect(r2).toMatchObject({ outcome: "failure", reason: "shutdown" });
    expect(ch2.commands.at(-1)).toBe("continue crm-bridge-route,3-20,1");
  });

  it("the number sent: E.164 with the node's country, as given when only the edge knows the country, nothing when unusable", () => {
    expect(callerNumberToSend("911 23 45 67", "ES")).toBe("+34911234567");
    expect(callerNumberToSend("+34 911 23 45 67", undefined)).toBe("+34911234567");
    expect(callerNumberToSend(" 911234567 ", undefined)).toBe("911234567");
    expect(callerNumberToSend("12", "ES")).toBeNull();
    expect(callerNumberToSend("+0000000", undefined)).toBeNull();
    expect(callerNumberToSend("Anonymous", undefined)).toBeNull();
    expect(callerNumberToSend("", undefined)).toBeNull();
    // A P-Asserted-Identity copied whole: its national number goes to the edge, which has the tenant's country.
    expect(callerNumberToSend("<sip:911234567@carrier.example;user=phone>", undefined)).toBe("911234567");
    expect(callerNumberToSend('"Ana" <sip:+34911234567@carrier.example>', undefined)).toBe("+34911234567");
    expect(callerNumberToSend("Anonymous <sip:anonymous@anonymous.invalid>", undefined)).toBeNull();
  });
});

describe("mediaUri", () => {
  it("keeps media URIs and makes a bare file name a sound", () => {
    expect(mediaUri("sound:hello-world")).toBe("sound:hello-world");
    expect(mediaUri("recording:greeting")).toBe("recording:greeting");
    expect(mediaUri("custom/welcome")).toBe("sound:custom/welcome");
  });
});
