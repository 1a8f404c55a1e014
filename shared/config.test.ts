import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connectorConfig } from "../worker/connectors/registry.js";
import { destinationsFile } from "./destinations-file.js";
import { nodeConfig, nodesFile } from "./node.js";

const dest = fc.record({ type: fc.integer({ min: 1, max: 12 }), id: fc.integer({ min: 1, max: 1_000_000 }) });
const slug = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/);
const validNode = fc.record({
  name: fc.string({ minLength: 1, maxLength: 50 }).filter((s) => s.trim().length > 0),
  interaction: fc.constantFrom("none", "crm_true_false", "crm_destination"),
  connector: fc.oneof(slug, fc.array(slug, { minLength: 1, maxLength: 5 })),
  audio: fc.constantFrom("sound:beep", "sound:custom/welcome"),
  expectedLength: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
  timeoutSeconds: fc.integer({ min: 1, max: 60 }),
  attempts: fc.integer({ min: 1, max: 20 }),
  confirm: fc.boolean(),
  successDestination: dest,
  failureDestination: dest,
});

describe("config parsers never throw and accept exactly the documented shapes", () => {
  it("node: every valid node parses and round-trips; arbitrary JSON never throws", () => {
    fc.assert(
      fc.property(validNode, (n) => {
        const parsed = nodeConfig.parse(n);
        expect(nodeConfig.parse(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
      }),
    );
    fc.assert(fc.property(fc.jsonValue(), (v) => void nodeConfig.safeParse(v)));
    fc.assert(
      fc.property(validNode, fc.constantFrom("attempts", "timeoutSeconds", "expectedLength"), fc.integer({ min: 61, max: 10_000 }), (n, field, bad) => {
        expect(nodeConfig.safeParse({ ...n, [field]: bad }).success).toBe(false);
      }),
    );
  });

  it("node: identifyBy defaults to dtmf; a number lookup needs a connector even in mode none", () => {
    const base = { name: "n", interaction: "none", successDestination: { type: 1, id: 1 }, failureDestination: { type: 1, id: 2 } };
    expect(nodeConfig.parse(base)).toMatchObject({ identifyBy: "dtmf", confirmCaller: false });
    expect(nodeConfig.safeParse({ ...base, identifyBy: "caller_number" }).success).toBe(false);
    expect(nodeConfig.parse({ ...base, identifyBy: "caller_number", connector: "crm", defaultCountry: "ES" })).toMatchObject({ identifyBy: "caller_number", defaultCountry: "ES" });
    expect(nodeConfig.safeParse({ ...base, identifyBy: "phone", connector: "crm" }).success).toBe(false);
    expect(nodeConfig.safeParse({ ...base, defaultCountry: "Spain" }).success).toBe(false);
  });

  it("connector: arbitrary JSON never throws; unknown kinds and extra keys are refused", () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => void connectorConfig.safeParse(v)));
    const known = new Set(["kind", "url", "timeoutMs", "cache", "auth", "__proto__"]);
    const base = { kind: "webhook", url: "https://crm.example.com/ident" };
    expect(connectorConfig.safeParse(base).success).toBe(true);
    fc.assert(
      fc.property(fc.dictionary(fc.string().filter((k) => !known.has(k)), fc.jsonValue(), { minKeys: 1 }), (extra) => {
        expect(connectorConfig.safeParse({ ...extra, ...base }).success).toBe(false);
      }),
    );
    expect(connectorConfig.safeParse({ kind: "sap", url: "https://x" }).success).toBe(false);
  });

  it("NODES_FILE and DESTINATIONS_FILE: arbitrary JSON never throws", () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => void nodesFile.safeParse(v)));
    fc.assert(fc.property(fc.jsonValue(), (v) => void destinationsFile.safeParse(v)));
  });
});
