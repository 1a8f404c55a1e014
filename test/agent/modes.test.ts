import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Interaction, NodeConfigInput } from "../../shared/node.js";
import { FAILURE, startRig, SUCCESS, type Rig } from "./support/rig.js";

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ asterisk: { playbackMs: (m) => (m.includes("long") ? 3000 : 100) } });
});
afterAll(() => rig.close());

type Case = {
  node: Partial<NodeConfigInput>;
  /** The caller, given the channel. */
  caller: (rig: Rig, id: string) => Promise<void>;
  outcome: "success" | "invalid";
  attempts: number;
  id?: string;
  check?: (rig: Rig, id: string) => void;
};

const afterPrompt = async (rig: Rig, id: string, digits: string, n = 0) => {
  await rig.playback(id, "PlaybackFinished", n);
  await rig.asterisk.sendDtmf(id, digits, { gapMs: 20 });
};

/** Types 321, then answers the read-back with `key` once it has started. */
const answerReadBack =
  (key: string): Case["caller"] =>
  async (r, id) => {
    await afterPrompt(r, id, "321", 0);
    await r.playback(id, "PlaybackStarted", 1);
    await r.asterisk.sendDtmf(id, key);
  };

const CASES: Record<string, Case> = {
  "valid first try": { node: { expectedLength: 4 }, caller: (r, id) => afterPrompt(r, id, "1234"), outcome: "success", attempts: 1, id: "1234" },
  "valid on a later attempt": {
    node: { expectedLength: 4, attempts: 3, timeoutSeconds: 1 },
    caller: async (r, id) => {
      await afterPrompt(r, id, "12#", 0);
      await afterPrompt(r, id, "99", 1); // then silence: wrong length at the timeout
      await afterPrompt(r, id, "5678", 2);
    },
    outcome: "success",
    attempts: 3,
    id: "5678",
  },
  "attempts exhausted": { node: { attempts: 2, timeoutSeconds: 1 }, caller: async () => undefined, outcome: "invalid", attempts: 2 },
  "wrong length": { node: { expectedLength: 5, timeoutSeconds: 1 }, caller: (r, id) => afterPrompt(r, id, "123"), outcome: "invalid", attempts: 1 },
  "'#' early": {
    node: { timeoutSeconds: 10 },
    caller: (r, id) => afterPrompt(r, id, "42#"),
    outcome: "success",
    attempts: 1,
    id: "42",
  },
  "barge-in": {
    node: { audio: "sound:long-prompt", expectedLength: 3 },
    caller: async (r, id) => {
      await r.playback(id, "PlaybackStarted");
      await r.asterisk.sendDtmf(id, "777", { gapMs: 20 });
    },
    outcome: "success",
    attempts: 1,
    id: "777",
    check: (r, id) => expect(r.commandsFor(id).some((c) => c.startsWith("DELETE /playbacks/"))).toBe(true),
  },
  confirmed: {
    node: { confirm: true, expectedLength: 3 },
    caller: answerReadBack("1"),
    outcome: "success",
    attempts: 1,
    id: "321",
    check: (r, id) => {
      const plays = r.asterisk.events.map((e) => (e.event as { playback?: { media_uri?: string; target_uri?: string } }).playback);
      expect(plays.some((p) => p?.media_uri === "sound:digits/3" && p.target_uri === `channel:${id}`)).toBe(true);
    },
  },
  "not confirmed": {
    node: { confirm: true, expectedLength: 3 },
    caller: answerReadBack("2"),
    outcome: "invalid",
    attempts: 1,
  },
};

const MODES: Interaction[] = ["none", "crm_true_false", "crm_destination"];

describe.each(MODES)("mode %s", (mode) => {
  it.concurrent.each(Object.keys(CASES))("%s", async (name) => {
    const c = CASES[name]!;
    const nodeId = `${mode.replace(/_/g, "-")}-${name.replace(/[^a-z]+/g, "-")}`.replace(/-+$/, "");
    rig.node(nodeId, { name: nodeId.slice(0, 50), interaction: mode, ...(mode === "none" ? {} : { connector: "crm" }), audio: "sound:prompt", successDestination: SUCCESS, failureDestination: FAILURE, ...c.node });
    rig.edge.setIdentify("acme", nodeId, { reply: { status: "ok", destination: "true" } });
    const id = rig.call(nodeId);
    await c.caller(rig, id);
    const r = await rig.report(id);
    expect(r.outcome).toBe(c.outcome);
    expect(r.attempts).toBe(c.attempts);
    const vars = rig.asterisk.channelVars(id);
    expect(vars.CRM_BRIDGE_OUTCOME).toBe(c.outcome);
    if (c.outcome === "success") {
      expect(rig.asterisk.channelState(id)).toMatchObject({ state: "continued", context: "to-campaign", extension: "10" });
      expect(vars).toMatchObject({ __OMLCODCLI: c.id, CUSTOMER_ID: c.id, CRM_BRIDGE_DEST_TYPE: "1", CRM_BRIDGE_DEST_ID: "10" });
    } else {
      expect(rig.asterisk.channelState(id)).toMatchObject({ state: "continued", context: "crm-bridge-route", extension: "3-20" });
      expect(vars.CUSTOMER_ID).toBeUndefined();
    }
    const asked = rig.edge.requests.filter((q) => q.path.endsWith(`/${nodeId}/identify`));
    expect(asked.length).toBe(mode !== "none" && c.outcome === "success" ? 1 : 0);
    if (asked[0]) expect(asked[0].body).toBe(`idContact=${c.id}`);
    c.check?.(rig, id);
  });
});
