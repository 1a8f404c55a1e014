import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./env.js";

const dir = mkdtempSync(join(tmpdir(), "agent-env-"));
const destinations = join(dir, "destinations.json");
writeFileSync(destinations, JSON.stringify({ default: { context: "route", extension: "{type}-{id}", priority: 1 }, fallback: { context: "fb", extension: "s" } }));
const base = { ARI_USERNAME: "u", ARI_PASSWORD: "p", EDGE_URL: "http://edge.test/", EDGE_KEY: "k", DESTINATIONS_FILE: destinations };

function failure(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("applies the SPEC 6 defaults", () => {
    const c = loadConfig(base);
    expect(c.ari).toMatchObject({ url: "http://127.0.0.1:8088", app: "crm-bridge" });
    expect(c.edge).toEqual({ url: "http://edge.test", key: "k" });
    expect(c.edgeTimeoutMs).toBe(2000);
    expect(c.shutdownGraceMs).toBe(10_000);
    expect(c.destinations.types).toEqual({});
    expect(c.destinations.fallback.priority).toBe(1);
    expect(c.nodesFile).toBeNull();
  });

  it("ARI_PEER_APPS: other agents' apps, comma separated, never this agent's own", () => {
    expect(loadConfig(base).peers).toEqual({ apps: [], deadMs: 3000 });
    expect(loadConfig({ ...base, ARI_APP: "crm-bridge-a", ARI_PEER_APPS: "crm-bridge-b, crm-bridge-c", ARI_PEER_DEAD_MS: "5000" }).peers).toEqual({ apps: ["crm-bridge-b", "crm-bridge-c"], deadMs: 5000 });
    expect(failure({ ...base, ARI_APP: "crm-bridge-a", ARI_PEER_APPS: "crm-bridge-a" }).variable).toBe("ARI_PEER_APPS");
    expect(failure({ ...base, ARI_PEER_APPS: "bad app" }).variable).toBe("ARI_PEER_APPS");
  });

  it.each([
    [{ ARI_USERNAME: undefined }, "ARI_USERNAME", "required"],
    [{ ARI_PASSWORD: "" }, "ARI_PASSWORD", "required"],
    [{ EDGE_TIMEOUT_MS: "soon" }, "EDGE_TIMEOUT_MS", ""],
    [{ EDGE_KEY: undefined }, "EDGE_KEY", "agent key"],
    [{ EDGE_URL: undefined, EDGE_KEY: undefined }, "EDGE_URL", "NODES_FILE"],
    [{ ARI_URL: "ftp://x" }, "ARI_URL", ""],
    [{ METRICS_PORT: "70000" }, "METRICS_PORT", ""],
    [{ DESTINATIONS_FILE: join(dir, "missing.json") }, "DESTINATIONS_FILE", "cannot read"],
  ])("names the bad variable: %o", (patch, variable, words) => {
    const e = failure({ ...base, ...patch });
    expect(e.variable).toBe(variable);
    expect(e.message.startsWith(`${variable}: `)).toBe(true);
    expect(e.message).toContain(words);
  });

  it("CONFIRM_CALLER_SOUND: Asterisk's 'if correct press one' unless set", () => {
    expect(loadConfig(base).confirmCallerMedia).toBe("sound:if-correct-press,sound:digits/1");
    expect(loadConfig({ ...base, CONFIRM_CALLER_SOUND: "sound:custom/is-this-you" }).confirmCallerMedia).toBe("sound:custom/is-this-you");
  });

  it("NODES_FILE: a CRM url node cannot identify by caller number (its CRM only knows idContact)", () => {
    const file = (n: object) => {
      const path = join(dir, `nodes-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(path, JSON.stringify({ acme: { n1: { name: "n1", interaction: "crm_true_false", successDestination: { type: 1, id: 1 }, failureDestination: { type: 3, id: 2 }, ...n } } }));
      return path;
    };
    const e = failure({ ...base, NODES_FILE: file({ url: "https://crm.example/oml", identifyBy: "caller_number_then_dtmf" }) });
    expect(e.variable).toBe("NODES_FILE");
    expect(e.message).toContain("acme.n1.identifyBy");
    expect(e.message).toContain("connector");
    expect(loadConfig({ ...base, NODES_FILE: file({ url: "https://crm.example/oml" }) }).nodesFile?.acme?.n1?.identifyBy).toBe("dtmf");
    expect(loadConfig({ ...base, NODES_FILE: file({ connector: "crm", identifyBy: "caller_number", confirmCaller: true, defaultCountry: "ES" }) }).nodesFile?.acme?.n1).toMatchObject({ identifyBy: "caller_number", confirmCaller: true, defaultCountry: "ES" });
  });

  it("lists every missing required setting at once", () => {
    const e = failure({});
    expect(e.missing.flatMap((m) => m.variables)).toEqual(["ARI_USERNAME", "ARI_PASSWORD", "DESTINATIONS_FILE", "EDGE_URL", "EDGE_KEY"]);
    expect(failure({ ...base, EDGE_KEY: undefined }).missing.flatMap((m) => m.variables)).toEqual(["EDGE_KEY"]);
    expect(failure({ ...base, EDGE_TIMEOUT_MS: "soon" }).missing).toEqual([]);
  });

  it("metrics listen on loopback unless METRICS_HOST says otherwise", () => {
    expect(loadConfig(base).metrics).toEqual({ port: 9464, host: "127.0.0.1" });
    expect(loadConfig({ ...base, METRICS_HOST: "0.0.0.0" }).metrics?.host).toBe("0.0.0.0");
  });

  it("names DESTINATIONS_FILE and the field when the file does not match the schema", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ types: { "13": { context: "x", extension: "s" } }, default: { context: "r", extension: "s" }, fallback: { context: "f", extension: "s" } }));
    const e = failure({ ...base, DESTINATIONS_FILE: bad });
    expect(e.variable).toBe("DESTINATIONS_FILE");
    expect(e.message).toContain("types");
  });

  it("accepts NODES_FILE instead of the edge, with url nodes", () => {
    const nodes = join(dir, "nodes.json");
    writeFileSync(
      nodes,
      JSON.stringify({ acme: { sales: { name: "Sales", interaction: "crm_destination", url: "http://crm.test/ident", successDestination: { type: 1, id: 1 }, failureDestination: { type: 5, id: 1 } } } }),
    );
    const c = loadConfig({ ...base, EDGE_URL: undefined, EDGE_KEY: undefined, NODES_FILE: nodes });
    expect(c.edge).toBeNull();
    expect(c.nodesFile?.acme?.sales?.url).toBe("http://crm.test/ident");
  });

  it("a malformed setting says what to write and what was given (never a secret's value)", () => {
    expect(failure({ ...base, METRICS_PORT: "abc" }).message).toBe('METRICS_PORT: a whole number from 0 to 65535 (got "abc")');
    expect(failure({ ...base, EDGE_TIMEOUT_MS: "-1" }).message).toBe('EDGE_TIMEOUT_MS: a whole number from 50 to 30000 (got "-1")');
    expect(failure({ ...base, EDGE_URL: "notaurl" }).message).toBe('EDGE_URL: an http:// or https:// address, such as http://127.0.0.1:8088 (got "notaurl")');
    expect(failure({ ...base, ARI_URL: "ftp://pbx" }).message).toContain("an http:// or https:// address");
    for (const m of [failure({ ...base, METRICS_PORT: "1.5" }).message, failure({ ...base, ARI_PEER_DEAD_MS: "9e9" }).message]) expect(m).not.toMatch(/Invalid|expected|received|Too (big|small)/);
  });

  it("NODES_FILE with several mistakes names every one, by node and field, in one go", () => {
    const nodes = join(dir, "nodes-bad.json");
    const sales = { name: "Sales", interaction: "crm_destination", url: "http://crm.test/ident", successDestination: { type: 1, id: 1 }, failureDestination: { type: 5, id: 1 } };
    writeFileSync(nodes, JSON.stringify({ acme: { sales: { ...sales, timeoutSeconds: 999, interaction: "zzz" }, "Bad Id": sales } }, null, 2));
    const e = failure({ ...base, EDGE_URL: undefined, EDGE_KEY: undefined, NODES_FILE: nodes });
    expect(e.variable).toBe("NODES_FILE");
    expect(e.message).toMatch(/at acme\.sales\.interaction: /);
    expect(e.message).toMatch(/at acme\.sales\.timeoutSeconds: /);
    // The node id's own rule, not zod's "Invalid key in record".
    expect(e.message).toMatch(/at acme\.Bad Id: lower-case letters, digits and '-'/);
    expect(e.message).not.toContain("Invalid key");
  });

  it("NODES_FILE that is not JSON is named", () => {
    const nodes = join(dir, "nodes.txt");
    writeFileSync(nodes, "{nope");
    expect(failure({ ...base, NODES_FILE: nodes }).variable).toBe("NODES_FILE");
  });
});
