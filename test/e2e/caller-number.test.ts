import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWholePath, type WholePath } from "../support/whole-path.js";

/**
 * Issue 12 on the whole path (fake Asterisk → agent process → real edge → fake CRM): the parts
 * that need no phone lookup on the CRM side. A withheld caller never costs an edge request; with
 * `caller_number_then_dtmf` they get today's prompt, with `caller_number` the failure destination.
 * (Number matches against each CRM kind are the edge's contract tests.)
 */
describe("identification by caller number, end to end", () => {
  let w: WholePath;
  const dest = { successDestination: { type: 1, id: 10 }, failureDestination: { type: 3, id: 20 } };
  const WITHHELD = { callerNumber: "", callerName: "Anonymous", callerPresentation: "prohib_passed_screen" };

  beforeAll(async () => {
    w = await startWholePath();
    const put = async (path: string, body: unknown) => {
      const r = await w.api("PUT", `/v1/tenants/acme${path}`, body);
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    };
    await put("/connectors/hook", { kind: "webhook", url: `${w.crmUrl}/u/e2e/contract/by-id`, timeoutMs: 800 });
    await put("/nodes/then", { name: "then", interaction: "crm_true_false", connector: "hook", identifyBy: "caller_number_then_dtmf", expectedLength: 4, timeoutSeconds: 2, ...dest });
    await put("/nodes/only", { name: "only", interaction: "crm_true_false", connector: "hook", identifyBy: "caller_number", expectedLength: 4, timeoutSeconds: 2, ...dest });
  }, 90_000);
  afterAll(() => w?.close(), 30_000);

  const playbacks = async (channelId: string) => {
    const events = (await (await fetch(`${w.control}/events?since=0`)).json()) as Array<{ event: { type: string; playback?: { target_uri: string } } }>;
    return events.filter((e) => e.event.type === "PlaybackStarted" && e.event.playback?.target_uri === `channel:${channelId}`).length;
  };

  it("withheld caller, caller_number_then_dtmf: the prompt as today, the typed id decides", async () => {
    const landed = await w.call("then", "1002", { caller: WITHHELD });
    expect(landed).toMatchObject({ state: "continued", context: "to-campaign", extension: "10" });
    expect(landed.vars).toMatchObject({ CUSTOMER_ID: "1002", CRM_BRIDGE_OUTCOME: "success" });
    expect(await playbacks(landed.channelId)).toBe(1);
  });

  it("withheld caller, caller_number: the failure destination, no prompt, no customer id", async () => {
    const landed = await w.call("only", "", { caller: WITHHELD, prompt: false });
    expect(landed).toMatchObject({ state: "continued", context: "crm-bridge-route", extension: "3-20" });
    expect(landed.vars.CRM_BRIDGE_OUTCOME).toBe("failure");
    expect(landed.vars).not.toHaveProperty("CUSTOMER_ID");
    expect(await playbacks(landed.channelId)).toBe(0);
    const line = w.agent.output.find((l) => l.includes(landed.channelId) && l.includes('"msg":"call"'));
    expect(line).toContain('"reason":"caller_number_unusable"');
  });
});
