import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { destinationsFile } from "../../../shared/destinations-file.js";
import { resolveRoute, routingVariables } from "./route-call.js";

const file = destinationsFile.parse({
  types: { "1": { context: "to-campaign", extension: "{id}", priority: 1 } },
  default: { context: "crm-bridge-route", extension: "{type}-{id}", priority: 1 },
  fallback: { context: "crm-bridge-fallback", extension: "s", priority: 1 },
});

describe("resolveRoute", () => {
  it("uses types, then hang-up and chain, then default", () => {
    expect(resolveRoute(file, { type: 1, id: 42 })).toEqual({ kind: "dialplan", target: { context: "to-campaign", extension: "42", priority: 1 } });
    expect(resolveRoute(file, { type: 3, id: 7 })).toEqual({ kind: "dialplan", target: { context: "crm-bridge-route", extension: "3-7", priority: 1 } });
    expect(resolveRoute(file, { type: 5, id: 1 })).toEqual({ kind: "hangup" });
    expect(resolveRoute(file, { type: 9, id: 12 })).toEqual({ kind: "node", nodeId: "12" });
  });

  it("types may take over 5 and 9", () => {
    const f = destinationsFile.parse({ ...file, types: { "5": { context: "bye", extension: "{type}", priority: 2 }, "9": { context: "n", extension: "{id}" } } });
    expect(resolveRoute(f, { type: 5, id: 1 })).toEqual({ kind: "dialplan", target: { context: "bye", extension: "5", priority: 2 } });
    expect(resolveRoute(f, { type: 9, id: 4 })).toEqual({ kind: "dialplan", target: { context: "n", extension: "4", priority: 1 } });
  });

  it("every destination of every type gets a target with no placeholder left", () => {
    const target = fc.record({ context: fc.constantFrom("a", "ctx-{type}"), extension: fc.constantFrom("{type}-{id}", "{id}", "s", "{id}{id}"), priority: fc.integer({ min: 1, max: 9 }) });
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...Array.from({ length: 12 }, (_, i) => String(i + 1))), target), target, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 2 ** 40 }), (types, def, type, id) => {
        const f = destinationsFile.parse({ types, default: def, fallback: { context: "fb", extension: "s" } });
        const r = resolveRoute(f, { type, id });
        if (r.kind === "dialplan") {
          expect(r.target.extension).not.toMatch(/\{(type|id)\}/);
          if ((types[String(type)] ?? def).extension === "{id}") expect(r.target.extension).toBe(String(id));
        } else {
          expect(types[String(type)]).toBeUndefined();
          expect(r.kind === "hangup" ? 5 : 9).toBe(type);
        }
      }),
    );
  });
});

describe("routingVariables", () => {
  it("sets the OMniLeads variable, the id, the outcome and the destination", () => {
    expect(routingVariables("4321", "crm", { type: 1, id: 3 })).toEqual([
      ["__OMLCODCLI", "4321"],
      ["CUSTOMER_ID", "4321"],
      ["CRM_BRIDGE_OUTCOME", "crm"],
      ["CRM_BRIDGE_DEST_TYPE", "1"],
      ["CRM_BRIDGE_DEST_ID", "3"],
    ]);
  });
  it("never sets an invalid id", () => {
    expect(routingVariables("12*", "invalid", { type: 5, id: 1 }).map(([k]) => k)).toEqual(["CRM_BRIDGE_OUTCOME", "CRM_BRIDGE_DEST_TYPE", "CRM_BRIDGE_DEST_ID"]);
    expect(routingVariables(null, "failure", null)).toEqual([["CRM_BRIDGE_OUTCOME", "failure"]]);
  });
});
