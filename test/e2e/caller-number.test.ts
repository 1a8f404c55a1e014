import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crmFixtures } from "../support/fake-crms/fixtures.js";
import { startFakeCrms, type FakeCrms } from "../support/fake-crms/index.js";
import { CALLERS } from "../support/fake-crms/phone-book.js";
import { startWholePath, type Landed, type WholePath } from "../support/whole-path.js";

/**
 * Issue 12 on the whole path: fake Asterisk → agent process → real edge (local workerd) → fake
 * CRM. Number matches go through HubSpot's fake, whose phone book stores numbers the ways people
 * type them (national, international, spaced, dashed, bracketed) and holds two customers sharing
 * one number; typed ids fall back to the same connector. A withheld caller never costs an edge
 * request.
 */
describe("identification by caller number, end to end", () => {
  let w: WholePath;
  let crms: FakeCrms;
  const dest = { successDestination: { type: 1, id: 10 }, failureDestination: { type: 3, id: 20 } };
  const WITHHELD = { callerNumber: "", callerName: "Anonymous", callerPresentation: "prohib_passed_screen" };
  // The HubSpot plan decides: ids ending 0–4 are gold (campaign 3), the rest bronze (campaign 4).
  const planRules = {
    rules: [
      { when: { path: "properties.plan", op: "eq", value: "gold" }, destination: "1,3" },
      { when: { path: "properties.plan", op: "eq", value: "bronze" }, destination: "1,4" },
    ],
    default: "true",
    notFound: "false",
  };

  beforeAll(async () => {
    [w, crms] = await Promise.all([startWholePath(), startFakeCrms()]);
    const put = async (path: string, body: unknown) => {
      const r = await w.api("PUT", `/v1/tenants/acme${path}`, body);
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    };
    // National caller numbers are read in the tenant's country: the agent passes them on as they came.
    const tenant = await w.api("PUT", "/v1/tenants/acme", { name: "ACME", defaultCountry: "ES" }, w.edge.operatorToken);
    if (!tenant.ok) throw new Error(`tenant: ${tenant.status} ${await tenant.text()}`);
    await put("/connectors/hook", { kind: "webhook", url: `${w.crmUrl}/u/e2e/contract/by-id`, timeoutMs: 800 });
    // HubSpot's search allows 4 requests a second, which back-to-back calls here exceed; that guard is not what this suite is about.
    await put("/connectors/hs", { ...crmFixtures.hubspot!.config(`${crms.url}/u/${randomUUID()}/hubspot/found`), ...planRules, timeoutMs: 1000, quota: { requests: 1000, perSeconds: 1 } });
    await put("/nodes/then", { name: "then", interaction: "crm_true_false", connector: "hook", identifyBy: "caller_number_then_dtmf", expectedLength: 4, timeoutSeconds: 2, ...dest });
    await put("/nodes/only", { name: "only", interaction: "crm_true_false", connector: "hook", identifyBy: "caller_number", expectedLength: 4, timeoutSeconds: 2, ...dest });
    const hs = { interaction: "crm_destination", connector: "hs", expectedLength: 4, timeoutSeconds: 2, ...dest };
    await put("/nodes/hs-then", { name: "hs-then", identifyBy: "caller_number_then_dtmf", ...hs });
    await put("/nodes/hs-only", { name: "hs-only", identifyBy: "caller_number", ...hs });
    await put("/nodes/hs-confirm", { name: "hs-confirm", identifyBy: "caller_number_then_dtmf", confirmCaller: true, ...hs });
  }, 90_000);
  afterAll(async () => {
    await w?.close();
    await crms?.close();
  }, 30_000);

  /** Prompts played to the channel: one playback each, whatever number of media it lists. */
  const playbacks = async (channelId: string) => {
    const events = (await (await fetch(`${w.control}/events?since=0`)).json()) as Array<{ event: { type: string; playback?: { id: string; target_uri: string } } }>;
    return new Set(events.filter((e) => e.event.type === "PlaybackStarted" && e.event.playback?.target_uri === `channel:${channelId}`).map((e) => e.event.playback!.id)).size;
  };
  /** The agent's line about the call, written just after it routes the channel. */
  const agentLine = async (channelId: string) => {
    for (let i = 0; i < 100; i++) {
      const line = w.agent.output.find((l) => l.includes(channelId) && l.includes('"msg":"call"'));
      if (line) return line;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no agent line for ${channelId}`);
  };

  /** A caller who answers each prompt in turn: `answers[i]` is typed once the (i+1)th prompt has started ("" = silence). */
  async function dialogue(node: string, callerNumber: string, answers: string[]): Promise<Landed> {
    const placed = await fetch(`${w.control}/calls`, { method: "POST", body: JSON.stringify({ tenant: "acme", node, callerNumber }) });
    const { channelId } = (await placed.json()) as { channelId: string };
    for (let i = 0; i < answers.length; i++) {
      for (let n = 0; (await playbacks(channelId)) <= i; n++) {
        if (n > 600) throw new Error(`prompt ${i + 1} never played on ${channelId}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      if (answers[i]) await fetch(`${w.control}/calls/${channelId}/dtmf`, { method: "POST", body: JSON.stringify({ digits: answers[i], gapMs: 20 }) });
    }
    for (let n = 0; ; n++) {
      const s = (await (await fetch(`${w.control}/calls/${channelId}`)).json()) as Landed;
      if (s.state !== "inStasis") return { ...s, channelId };
      if (n > 750) throw new Error(`call ${channelId} on ${node} still in Stasis`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

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
    expect(await agentLine(landed.channelId)).toContain('"reason":"caller_number_unusable"');
  });

  // Stored "912 345 678" (national, spaced) and "+34 911 23 45 67" (international, spaced); "+34-612-345-678" (dashed, mobile).
  for (const [stored, caller, id, campaign] of [
    ["national, spaced", CALLERS.nationalSpaced, "700002", "3"],
    ["international, spaced", CALLERS.intlSpaced, "700001", "3"],
    ["bracketed", CALLERS.bracketed, "700004", "3"],
    ["dashed mobile", CALLERS.intlDashedMobile, "700003", "3"],
    ["national digits", CALLERS.nationalDigits, "700007", "4"],
  ] as const) {
    it(`known number (stored ${stored}): routed by the CRM's answer with no prompt, the matched id set as if typed`, async () => {
      for (const node of ["hs-then", "hs-only"]) {
        const landed = await w.call(node, "", { caller: { callerNumber: caller }, prompt: false });
        expect(landed, `${node} ${await agentLine(landed.channelId)}`).toMatchObject({ state: "continued", context: "to-campaign", extension: campaign });
        expect(landed.vars, node).toMatchObject({ CUSTOMER_ID: id, __OMLCODCLI: id, CRM_BRIDGE_OUTCOME: "crm" });
        expect(await playbacks(landed.channelId), node).toBe(0);
        // Logged masked, like a typed id.
        const line = await agentLine(landed.channelId);
        expect(line).toContain('"callerLookup":"found"');
        expect(line).not.toContain(id);
      }
    });
  }

  it("a national caller number on a node without a country: read in the tenant's, routed with no prompt", async () => {
    const landed = await w.call("hs-only", "", { caller: { callerNumber: "912 34 56 78" }, prompt: false });
    expect(landed).toMatchObject({ state: "continued", context: "to-campaign", extension: "3" });
    expect(landed.vars).toMatchObject({ CUSTOMER_ID: "700002", __OMLCODCLI: "700002" });
    expect(await playbacks(landed.channelId)).toBe(0);
  });

  it("unknown number, caller_number_then_dtmf: the prompt, then the typed id decides", async () => {
    const landed = await w.call("hs-then", "1005", { caller: { callerNumber: CALLERS.unknown } });
    expect(landed).toMatchObject({ state: "continued", context: "to-campaign", extension: "4" });
    expect(landed.vars).toMatchObject({ CUSTOMER_ID: "1005", __OMLCODCLI: "1005" });
    expect(await playbacks(landed.channelId)).toBe(1);
    expect(await agentLine(landed.channelId)).toContain('"callerLookup":"not_found"');
  });

  it("ambiguous number (two customers share it): the prompt with caller_number_then_dtmf, the failure destination with caller_number", async () => {
    const prompted = await w.call("hs-then", "1002", { caller: { callerNumber: CALLERS.shared } });
    expect(prompted).toMatchObject({ state: "continued", context: "to-campaign", extension: "3" });
    expect(prompted.vars).toMatchObject({ CUSTOMER_ID: "1002" });
    expect(await playbacks(prompted.channelId)).toBe(1);

    const failed = await w.call("hs-only", "", { caller: { callerNumber: CALLERS.shared }, prompt: false });
    expect(failed).toMatchObject({ state: "continued", context: "crm-bridge-route", extension: "3-20" });
    expect(failed.vars.CRM_BRIDGE_OUTCOME).toBe("failure");
    expect(failed.vars).not.toHaveProperty("CUSTOMER_ID");
    expect(failed.vars).not.toHaveProperty("__OMLCODCLI");
    expect(await playbacks(failed.channelId)).toBe(0);
  });

  it("confirmCaller accepted: one short prompt, `1`, routed as the matched customer", async () => {
    const landed = await dialogue("hs-confirm", CALLERS.intlSpaced, ["1"]);
    expect(landed).toMatchObject({ state: "continued", context: "to-campaign", extension: "3" });
    expect(landed.vars).toMatchObject({ CUSTOMER_ID: "700001", __OMLCODCLI: "700001" });
    expect(await playbacks(landed.channelId)).toBe(1);
  });

  it("confirmCaller refused by another key: the DTMF prompt follows and the typed id decides", async () => {
    const landed = await dialogue("hs-confirm", CALLERS.intlSpaced, ["9", "1005"]);
    expect(landed).toMatchObject({ state: "continued", context: "to-campaign", extension: "4" });
    expect(landed.vars).toMatchObject({ CUSTOMER_ID: "1005", __OMLCODCLI: "1005" });
    expect(await playbacks(landed.channelId)).toBe(2);
    expect(await agentLine(landed.channelId)).toContain('"callerLookup":"refused"');
  });

  it("confirmCaller met with silence: the DTMF prompt follows and the typed id decides", async () => {
    const landed = await dialogue("hs-confirm", CALLERS.intlSpaced, ["", "1005"]);
    expect(landed).toMatchObject({ state: "continued", context: "to-campaign", extension: "4" });
    expect(landed.vars).toMatchObject({ CUSTOMER_ID: "1005" });
    expect(await playbacks(landed.channelId)).toBe(2);
  }, 30_000);
});
