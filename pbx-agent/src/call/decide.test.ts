import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseContractReply } from "../../../shared/contract.js";
import type { Interaction } from "../../../shared/node.js";
import type { LookupResult } from "../edge/client.js";
import { decide } from "./decide.js";

const S = { type: 1, id: 10 };
const F = { type: 3, id: 20 };
const node = (interaction: Interaction) => ({ interaction, successDestination: S, failureDestination: F });
const reply = (destination: string, status: "ok" | "fail" = "ok"): LookupResult => ({ ok: true, reply: { status, destination }, ms: 1 });

describe("decide (SPEC 6 step 4)", () => {
  it.each([
    ["none", null, "success", S],
    ["crm_true_false", reply("true"), "success", S],
    ["crm_true_false", reply("false"), "failure", F],
    ["crm_true_false", reply("3,7"), "failure", F],
    ["crm_true_false", reply("true", "fail"), "failure", F],
    ["crm_true_false", { ok: false, reason: "edge_timeout", ms: 2000 }, "timeout", F],
    ["crm_true_false", { ok: false, reason: "edge_http_500", ms: 1 }, "failure", F],
    ["crm_destination", reply("2,7"), "crm", { type: 2, id: 7 }],
    ["crm_destination", reply("true"), "success", S],
    ["crm_destination", reply("false"), "failure", F],
    ["crm_destination", reply("2,7", "fail"), "failure", F],
    ["crm_destination", { ok: false, reason: "edge_unreachable", ms: 1 }, "failure", F],
    ["crm_destination", { ok: false, reason: "edge_timeout", ms: 2000 }, "timeout", F],
  ] as const)("%s with %o → %s", (interaction, lookup, outcome, destination) => {
    const v = decide(node(interaction), lookup as LookupResult | null);
    expect(v.outcome).toBe(outcome);
    expect(v.destination).toEqual(destination);
  });

  it.each([
    ["none", null, null],
    ["crm_true_false", null, "no_crm"],
    ["crm_true_false", reply("true"), "crm_true"],
    ["crm_true_false", reply("false"), "crm_false"],
    // The edge's code for the same case (shared/decision.ts): one name on both sides.
    ["crm_true_false", reply("3,7"), "crm_destination_on_true_false"],
    ["crm_true_false", reply("true", "fail"), "crm_fail"],
    ["crm_destination", reply("2,7"), "crm_destination"],
    ["crm_destination", reply("0,7"), "crm_bad_reply"],
    ["crm_destination", { ok: false, reason: "edge_http_503", ms: 1 }, "edge_http_503"],
    ["crm_destination", { ok: false, reason: "edge_timeout", ms: 2000 }, "edge_timeout"],
  ] as const)("%s with %o logs reason %s", (interaction, lookup, reason) => {
    expect(decide(node(interaction), lookup as LookupResult | null).reason).toBe(reason);
  });

  it("any CRM body: a crash never, the failure destination unless it is a clean ok answer", () => {
    const body = fc.oneof(
      fc.string(),
      fc.json(),
      fc.record({ status: fc.constantFrom("ok", "fail", "OK", ""), destination: fc.oneof(fc.constantFrom("true", "false", " 3,7 ", "0,1", "13,1", "1,0", "1, 2", "9,99999"), fc.string()) }).map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(body, fc.constantFrom<Interaction>("crm_true_false", "crm_destination"), (text, interaction) => {
        const parsed = parseContractReply(text);
        const lookup: LookupResult = parsed.ok ? { ok: true, reply: parsed.reply, ms: 1 } : { ok: false, reason: "edge_bad_reply", ms: 1 };
        const v = decide(node(interaction), lookup);
        const clean = parsed.ok && parsed.reply.status === "ok";
        if (!clean) expect(v).toMatchObject({ outcome: "failure", destination: F });
        if (clean && parsed.reply.destination === "true") expect(v.destination).toEqual(S);
        if (v.outcome === "crm") {
          expect(interaction).toBe("crm_destination");
          expect(v.destination.type).toBeGreaterThanOrEqual(1);
          expect(v.destination.type).toBeLessThanOrEqual(12);
          expect(v.destination.id).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
