import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { NodeConfigInput } from "../../shared/node.js";
import { FAILURE, startRig, SUCCESS, until, type CallerOptions, type Rig } from "./support/rig.js";

/**
 * Issue 12, the whole path: fake Asterisk → agent → fake edge. A caller whose number the edge
 * knows is routed with no prompt; any other caller gets the prompt (then_dtmf) or the failure
 * destination (caller_number).
 */

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ asterisk: { playbackMs: 300 } });
  rig.edge.callers.set("+34911234567", { idContact: "5550123" });
  rig.edge.callers.set("+34911000111", "ambiguous");
});
afterAll(() => rig.close());
beforeEach(() => {
  rig.edge.callerDelayMs = 0;
});

const KNOWN: CallerOptions = { callerNumber: "+34911234567", callerName: "Ana" };
const UNKNOWN: CallerOptions = { callerNumber: "+34911999888" };
const AMBIGUOUS: CallerOptions = { callerNumber: "+34911000111" };
/** A withheld caller exactly as Asterisk 22 shows one: no number, "Anonymous", presentation prohibited. */
const WITHHELD: CallerOptions = { callerNumber: "", callerName: "Anonymous", callerPresentation: "prohib_passed_screen" };

let seq = 0;
/** A fresh node (own id, so the edge's node cache never mixes cases) answering `true` for any typed id. */
function node(extra: Partial<NodeConfigInput>): string {
  const id = `cn${++seq}`;
  rig.node(id, { name: id, interaction: "crm_true_false", connector: "crm", audio: "sound:enter-id", expectedLength: 4, timeoutSeconds: 2, successDestination: SUCCESS, failureDestination: FAILURE, ...extra });
  rig.edge.setIdentify("acme", id, { reply: { status: "ok", destination: "true" } });
  return id;
}

const identifyBodies = (nodeId: string) => rig.edge.requests.filter((r) => r.path.endsWith(`/nodes/${nodeId}/identify`)).map((r) => r.body);
const playbacksOn = (id: string) =>
  rig.asterisk.events.filter((e) => e.event.type === "PlaybackStarted" && (e.event as { playback?: { target_uri: string } }).playback?.target_uri === `channel:${id}`).map((e) => (e.event as { playback: { media_uri: string } }).playback.media_uri);

describe("caller_number_then_dtmf", () => {
  it("known number: routed with no prompt played, CUSTOMER_ID and __OMLCODCLI from the edge's idContact", async () => {
    const n = node({ identifyBy: "caller_number_then_dtmf" });
    const id = rig.call(n, "acme", KNOWN);
    const r = await rig.report(id);
    expect(r).toMatchObject({ outcome: "success", identifiedBy: "caller_number", callerLookup: "found", customerId: "*****23", attempts: 0 });
    expect(rig.asterisk.channelState(id)).toMatchObject({ state: "continued", context: "to-campaign", extension: "10" });
    expect(rig.asterisk.channelVars(id)).toMatchObject({ __OMLCODCLI: "5550123", CUSTOMER_ID: "5550123", CRM_BRIDGE_OUTCOME: "success" });
    expect(playbacksOn(id)).toEqual([]);
    expect(rig.commandsFor(id).some((c) => c.startsWith("POST /play"))).toBe(false);
    // One request, the OMniLeads form encoding with the number, under the strict deadline.
    expect(identifyBodies(n)).toEqual(["callerNumber=%2B34911234567"]);
    const req = rig.edge.requests.find((q) => q.path.endsWith(`/nodes/${n}/identify`))!;
    expect(req.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Number(req.headers["x-deadline-ms"])).toBeGreaterThan(0);
    expect(Number(req.headers["x-deadline-ms"])).toBeLessThanOrEqual(rig.config.edgeTimeoutMs);
    // The number is personal data: the agent's log line has neither it nor the full id.
    const line = rig.logs.find((l) => l.includes(id))!;
    expect(line).not.toContain("911234567");
    expect(line).not.toContain("5550123");
  });

  for (const [what, caller, asksEdge, lookup] of [
    ["unknown", UNKNOWN, true, "not_found"],
    ["ambiguous", AMBIGUOUS, true, "ambiguous"],
    ["withheld", WITHHELD, false, "unusable"],
  ] as const) {
    it(`${what} number: the prompt as today, then the typed id`, async () => {
      const n = node({ identifyBy: "caller_number_then_dtmf" });
      const id = rig.call(n, "acme", caller);
      expect((await rig.playback(id, "PlaybackStarted")).media).toBe("sound:enter-id");
      await rig.asterisk.sendDtmf(id, "4321", { gapMs: 20 });
      const r = await rig.report(id);
      expect(r).toMatchObject({ outcome: "success", identifiedBy: "dtmf", callerLookup: lookup, customerId: "**21" });
      expect(rig.asterisk.channelVars(id)).toMatchObject({ CUSTOMER_ID: "4321" });
      // A withheld number never reaches the edge.
      expect(identifyBodies(n)).toEqual(asksEdge ? [`callerNumber=${encodeURIComponent(caller.callerNumber!)}`, "idContact=4321"] : ["idContact=4321"]);
    });
  }

  it("type-ahead: keys pressed while the number is looked up are the id; the prompt is not played", async () => {
    rig.edge.callerDelayMs = 600;
    const n = node({ identifyBy: "caller_number_then_dtmf" });
    const id = rig.call(n, "acme", UNKNOWN);
    // Polled: the edge's requests are no event the fake Asterisk would wake a waiter for.
    await until(() => rig.edge.requests.some((q) => q.path.endsWith(`/nodes/${n}/identify`)), 3000, "the number lookup");
    await rig.asterisk.sendDtmf(id, "4321", { gapMs: 20 });
    const r = await rig.report(id);
    expect(r).toMatchObject({ outcome: "success", identifiedBy: "dtmf", customerId: "**21", attempts: 1 });
    expect(rig.asterisk.channelVars(id)).toMatchObject({ CUSTOMER_ID: "4321" });
    expect(identifyBodies(n)).toEqual(["callerNumber=%2B34911999888", "idContact=4321"]);
    expect(playbacksOn(id)).toEqual([]);
  });

  it("the number from CRM_BRIDGE_CALLER_NUMBER when the dialplan sets it, read in the node's country", async () => {
    const n = node({ identifyBy: "caller_number_then_dtmf", defaultCountry: "ES" });
    const id = rig.call(n, "acme", { callerNumber: "trunk-0042", variables: { CRM_BRIDGE_CALLER_NUMBER: "911 23 45 67" } });
    const r = await rig.report(id);
    expect(r).toMatchObject({ outcome: "success", identifiedBy: "caller_number" });
    expect(identifyBodies(n)).toEqual(["callerNumber=%2B34911234567"]);
    expect(rig.commandsFor(id)).toContain("GET /variable CRM_BRIDGE_CALLER_NUMBER=");
  });
});

describe("caller_number", () => {
  it("known number in mode none: success, no prompt", async () => {
    const n = node({ identifyBy: "caller_number", interaction: "none" });
    const id = rig.call(n, "acme", KNOWN);
    const r = await rig.report(id);
    expect(r).toMatchObject({ outcome: "success", identifiedBy: "caller_number" });
    expect(rig.asterisk.channelVars(id)).toMatchObject({ CUSTOMER_ID: "5550123" });
    expect(playbacksOn(id)).toEqual([]);
  });

  for (const [what, caller, reason] of [
    ["unknown", UNKNOWN, "caller_number_not_found"],
    ["ambiguous", AMBIGUOUS, "ambiguous"],
    ["withheld", WITHHELD, "caller_number_unusable"],
  ] as const) {
    it(`${what} number: the failure destination, never a prompt`, async () => {
      const n = node({ identifyBy: "caller_number" });
      const id = rig.call(n, "acme", caller);
      const r = await rig.report(id);
      expect(r).toMatchObject({ outcome: "failure", reason, identifiedBy: null, attempts: 0 });
      expect(rig.asterisk.channelState(id)).toMatchObject({ state: "continued", context: "crm-bridge-route", extension: "3-20" });
      expect(rig.asterisk.channelVars(id)).not.toHaveProperty("CUSTOMER_ID");
      expect(playbacksOn(id)).toEqual([]);
    });
  }
});

describe("confirmCaller", () => {
  it("1 accepts the match", async () => {
    const n = node({ identifyBy: "caller_number", confirmCaller: true });
    const id = rig.call(n, "acme", KNOWN);
    expect((await rig.playback(id, "PlaybackStarted")).media).toBe("sound:if-correct-press");
    await rig.asterisk.sendDtmf(id, "1");
    const r = await rig.report(id);
    expect(r).toMatchObject({ outcome: "success", identifiedBy: "caller_number", callerLookup: "found" });
    expect(rig.asterisk.channelVars(id)).toMatchObject({ CUSTOMER_ID: "5550123" });
    expect(playbacksOn(id)).not.toContain("sound:enter-id");
  });

  for (const [what, key] of [
    ["another key", "2"],
    ["silence", null],
  ] as const) {
    it(`${what} refuses it: the DTMF prompt, and the typed id is the one set`, async () => {
      const n = node({ identifyBy: "caller_number", confirmCaller: true });
      const id = rig.call(n, "acme", KNOWN);
      await rig.playback(id, "PlaybackStarted");
      if (key) await rig.asterisk.sendDtmf(id, key);
      const prompt = await rig.asterisk.waitFor(() => playbacksOn(id).includes("sound:enter-id"), 8000, "the DTMF prompt");
      expect(prompt).toBe(true);
      await rig.asterisk.sendDtmf(id, "4321", { gapMs: 20 });
      const r = await rig.report(id);
      expect(r).toMatchObject({ outcome: "success", identifiedBy: "dtmf", callerLookup: "refused" });
      expect(rig.asterisk.channelVars(id)).toMatchObject({ CUSTOMER_ID: "4321" });
    }, 15_000);
  }
});

describe("the number lookup meets a hang-up or a dead edge", () => {
  for (const identifyBy of ["caller_number", "caller_number_then_dtmf"] as const) {
    it(`${identifyBy}: a hang-up while the number is looked up is abandoned; the late match routes nothing, rejects nothing`, async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (e: unknown) => void unhandled.push(e);
      process.on("unhandledRejection", onUnhandled);
      try {
        // Answers after the hang-up, inside the deadline: a known caller the agent must not route.
        rig.edge.callerDelayMs = 300;
        const n = node({ identifyBy, confirmCaller: identifyBy === "caller_number" });
        const id = rig.call(n, "acme", KNOWN);
        await until(() => rig.edge.requests.some((q) => q.path.endsWith(`/nodes/${n}/identify`)), 3000, "the number lookup");
        const mark = rig.asterisk.commands.length;
        rig.asterisk.hangup(id);
        expect(await rig.report(id)).toMatchObject({ outcome: "abandoned", identifiedBy: null });
        // Past the edge's answer and the deadline.
        await new Promise((r) => setTimeout(r, rig.config.edgeTimeoutMs + 200));
        expect(rig.asterisk.commands.slice(mark).filter((c) => c.path.includes(id))).toEqual([]);
        expect(rig.asterisk.channelVars(id)).not.toHaveProperty("CUSTOMER_ID");
        expect(unhandled).toEqual([]);
      } finally {
        process.off("unhandledRejection", onUnhandled);
      }
    });
  }

  it("a lookup that times out while the caller types: the keys are the id, and the timeout is what the report says", async () => {
    rig.edge.callerDelayMs = rig.config.edgeTimeoutMs + 1000;
    const n = node({ identifyBy: "caller_number_then_dtmf" });
    const id = rig.call(n, "acme", KNOWN);
    await until(() => rig.edge.requests.some((q) => q.path.endsWith(`/nodes/${n}/identify`)), 3000, "the number lookup");
    await rig.asterisk.sendDtmf(id, "43", { gapMs: 20 });
    // The deadline passes between the keys: the rest of the id goes to the same read.
    await new Promise((r) => setTimeout(r, rig.config.edgeTimeoutMs));
    await rig.asterisk.sendDtmf(id, "21", { gapMs: 20 });
    const r = await rig.report(id);
    expect(r).toMatchObject({ outcome: "success", identifiedBy: "dtmf", callerLookup: "edge_timeout", customerId: "**21", attempts: 1 });
    expect(rig.asterisk.channelVars(id)).toMatchObject({ CUSTOMER_ID: "4321" });
  });

  it("edge down (503) for the number: caller_number takes the failure destination with no prompt; then_dtmf asks for the id", async () => {
    const only = node({ identifyBy: "caller_number" });
    const then = node({ identifyBy: "caller_number_then_dtmf" });
    // Each node fetched once while the edge is up; the agent's copy serves while it is down.
    for (const n of [only, then]) {
      const warm = rig.call(n, "acme", UNKNOWN);
      if (n === then) {
        await rig.playback(warm, "PlaybackStarted");
        await rig.asterisk.sendDtmf(warm, "4321", { gapMs: 20 });
      }
      await rig.report(warm);
    }
    rig.edge.down = true;
    try {
      const a = rig.call(only, "acme", KNOWN);
      const ra = await rig.report(a);
      expect(ra).toMatchObject({ outcome: "failure", identifiedBy: null, attempts: 0 });
      expect(String(ra.reason)).toMatch(/^edge_/);
      expect(rig.asterisk.channelState(a)).toMatchObject({ state: "continued", context: "crm-bridge-route", extension: "3-20" });
      expect(playbacksOn(a)).toEqual([]);
      const b = rig.call(then, "acme", KNOWN);
      expect((await rig.playback(b, "PlaybackStarted")).media).toBe("sound:enter-id");
      await rig.asterisk.sendDtmf(b, "4321", { gapMs: 20 });
      const rb = await rig.report(b);
      expect(rb).toMatchObject({ identifiedBy: "dtmf", customerId: "**21" });
      expect(String(rb.callerLookup)).toMatch(/^edge_/);
    } finally {
      rig.edge.down = false;
    }
  });
});
