import { describe, expect, it } from "vitest";
import { decide } from "./decide.js";
import type { ChainResult } from "./lookup-customer.js";

const said = (decision: string): ChainResult => ({ ok: true, decision, cache: "MISS", steps: [] });
const failed: ChainResult = { ok: false, reason: "crm_timeout", steps: [] };

describe("edge decide: the shared mode decision as the contract reply", () => {
  it.each([
    ["crm_true_false", said("true"), { status: "ok", destination: "true" }, "success", null],
    ["crm_true_false", said("false"), { status: "ok", destination: "false" }, "failure", null],
    ["crm_true_false", said("3,7"), { status: "ok", destination: "false" }, "failure", "crm_destination_on_true_false"],
    ["crm_destination", said(" 3,7"), { status: "ok", destination: " 3,7" }, "route", null],
    ["crm_destination", said("false"), { status: "ok", destination: "false" }, "failure", null],
    ["crm_destination", said("13,1"), { status: "fail", destination: "false" }, "failure", "crm_bad_reply"],
    ["crm_destination", failed, { status: "fail", destination: "false" }, "failure", "crm_timeout"],
  ] as const)("%s with %o", (interaction, chain, reply, outcome, reason) => {
    expect(decide(interaction, chain)).toEqual({ reply, outcome, reason });
  });
});
