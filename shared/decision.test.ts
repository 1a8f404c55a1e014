import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decideMode } from "./decision.js";
import { isReason, REASONS } from "./reasons.js";

describe("decideMode (SPEC 6 step 4)", () => {
  it.each([
    ["crm_true_false", "true", "success", "crm_true"],
    ["crm_true_false", "false", "failure", "crm_false"],
    ["crm_true_false", "3,7", "failure", "crm_destination_on_true_false"],
    ["crm_destination", "true", "success", "crm_true"],
    ["crm_destination", "false", "failure", "crm_false"],
    ["crm_destination", " 3,7 ", "route", "crm_destination"],
    ["crm_destination", "13,1", "failure", "crm_bad_reply"],
    ["crm_destination", "maybe", "failure", "crm_bad_reply"],
  ] as const)("%s, the CRM says %o → %s (%s)", (interaction, destination, outcome, reason) => {
    expect(decideMode(interaction, { ok: true, status: "ok", destination })).toMatchObject({ outcome, reason });
  });

  it("a clean failure is an answer that means failure; no answer is not clean", () => {
    expect(decideMode("crm_true_false", { ok: true, status: "ok", destination: "2,5" })).toMatchObject({ clean: true });
    expect(decideMode("crm_destination", { ok: true, status: "ok", destination: "false" })).toMatchObject({ clean: true });
    expect(decideMode("crm_destination", { ok: true, status: "fail", destination: "true" })).toEqual({ outcome: "failure", reason: "crm_fail", clean: false });
    expect(decideMode("crm_destination", { ok: false, reason: "crm_http_503" })).toEqual({ outcome: "failure", reason: "crm_http_503", clean: false });
  });

  it("route only in destination mode, success only on a clean true, every reason in the shared list", () => {
    fc.assert(
      fc.property(fc.constantFrom("crm_true_false", "crm_destination"), fc.constantFrom("ok", "fail"), fc.oneof(fc.constantFrom("true", "false", "1,1", "12,9", "0,1"), fc.string()), (interaction, status, destination) => {
        const m = decideMode(interaction, { ok: true, status, destination });
        expect(isReason(m.reason)).toBe(true);
        if (m.outcome === "route") expect(interaction).toBe("crm_destination");
        if (m.outcome === "success") expect([status, destination]).toEqual(["ok", "true"]);
      }),
      { numRuns: 500 },
    );
  });
});

describe("reason codes", () => {
  it("are unique snake_case, and the variable ones are recognised", () => {
    expect(new Set(REASONS).size).toBe(REASONS.length);
    for (const r of REASONS) expect(r).toMatch(/^[a-z]+(_[a-z0-9]+)*$/);
    for (const r of ["crm_http_500", "edge_http_404", "no_node:edge_timeout", "no_node:edge_http_502", "ari_error:Channel not found"]) expect(isReason(r)).toBe(true);
    for (const r of ["destination_in_true_false_mode", "crm_http_", "crm_http_5000", "no_node:whatever", "CRM_TIMEOUT", ""]) expect(isReason(r)).toBe(false);
  });
});
