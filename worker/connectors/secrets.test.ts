import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connectorModules } from "./registry.js";
import { rest } from "./rest.js";
import { changedDestinations, keepStoredSecrets, mergeSecrets, splitSecrets } from "./secrets.js";

const patterns = ["auth.token", "auth.password", "headers.*"];
const bindings = { secrets: patterns, destinations: [{ pattern: "url", compare: "origin" as const }] };

describe("connector secrets", () => {
  it("split then merge gives the config back, and the masked part holds no secret", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.dictionary(fc.stringMatching(/^[A-Za-z-]{1,10}$/), fc.string({ minLength: 1 })), (token, headers) => {
        const config = { kind: "rest", url: "https://x/{idContact}", auth: { type: "bearer", token }, headers };
        const { masked, secrets } = splitSecrets(config, patterns);
        expect(masked.auth.token).toBe("***");
        for (const k of Object.keys(headers)) expect(masked.headers[k]).toBe("***");
        expect(mergeSecrets(masked, secrets)).toEqual(config);
      }),
    );
  });

  it('"***" keeps a stored secret and reports one that was never stored', () => {
    const before = { kind: "rest", url: "https://crm.example.com/{idContact}", auth: { type: "bearer", token: "s3cret" } };
    const stored = { config: before, secrets: splitSecrets(before, patterns).secrets };
    const again = (over: Record<string, unknown>) => keepStoredSecrets({ ...before, ...over }, stored, bindings);
    expect(again({ auth: { type: "bearer", token: "***" } })).toEqual({ config: before, missing: [], rebound: null });
    expect(again({ auth: { type: "bearer", token: "new" } }).config.auth.token).toBe("new");
    expect(again({ headers: { "X-Key": "***" } }).missing).toEqual(["headers.X-Key"]);
  });

  it('a stored secret kept by "***" is refused when where it goes changes, and accepted when typed again', () => {
    const before = { kind: "rest", url: "https://crm.example.com/a/{idContact}", auth: { type: "bearer", token: "s3cret" }, headers: { "X-Key": "k" } };
    const stored = { config: before, secrets: splitSecrets(before, patterns).secrets };
    const masked = { ...before, auth: { type: "bearer", token: "***" }, headers: { "X-Key": "***" } };
    for (const url of ["https://evil.example.com/{idContact}", "http://crm.example.com/a/{idContact}", "https://crm.example.com:8443/a/{idContact}"]) {
      expect(keepStoredSecrets({ ...masked, url }, stored, bindings).rebound).toEqual({ secrets: ["auth.token", "headers.X-Key"], destinations: ["url"] });
    }
    // Only the secret still masked must be typed again.
    expect(keepStoredSecrets({ ...masked, url: "https://evil.example.com/{idContact}", auth: { type: "bearer", token: "mine" } }, stored, bindings).rebound?.secrets).toEqual(["headers.X-Key"]);
    expect(keepStoredSecrets({ ...before, url: "https://evil.example.com/{idContact}" }, stored, bindings).rebound).toBeNull();
    // The same origin (another path) is the same server.
    expect(keepStoredSecrets({ ...masked, url: "https://CRM.example.com/b/{idContact}" }, stored, bindings).rebound).toBeNull();
    expect(keepStoredSecrets({ ...masked, kind: "webhook" }, stored, bindings).rebound?.destinations).toEqual(["kind"]);
  });

  it('"***" in a field that is no secret of the incoming config gets no stored secret (a kind whose plain field sits at another kind\'s secret path)', () => {
    const before = { kind: "a", url: "https://crm.example.com/", apiKey: "s3cret-value" };
    const stored = { config: before, secrets: splitSecrets(before, ["apiKey"]).secrets };
    // Kind "b" has apiKey as a plain, shown field and no secrets: nothing is kept, so nothing is checked for moving either.
    const plain = { secrets: [], destinations: [{ pattern: "url", compare: "origin" as const }] };
    const r = keepStoredSecrets({ kind: "b", url: "https://crm.example.com/", apiKey: "***" }, stored, plain);
    expect(r.config.apiKey).toBe("***");
    expect(JSON.stringify(r)).not.toContain("s3cret-value");
  });

  it("every kind declares its secrets and destinations on its schema", () => {
    const byKind = Object.fromEntries(connectorModules.map((m) => [m.kind, { secrets: [...m.secrets].sort(), destinations: m.destinations.map((d) => `${d.pattern}:${d.compare}`).sort() }]));
    expect(byKind).toEqual({
      webhook: { secrets: ["auth.password", "auth.token", "auth.value"], destinations: ["url:url"] },
      rest: { secrets: ["auth.password", "auth.token", "auth.value", "headers.*"], destinations: ["url:url"] },
      hubspot: { secrets: ["accessToken", "oauth.clientSecret", "oauth.refreshToken"], destinations: ["baseUrl:origin", "oauth.tokenUrl:url"] },
      salesforce: { secrets: ["auth.clientSecret", "auth.refreshToken", "auth.token"], destinations: ["auth.tokenUrl:url", "instanceUrl:origin"] },
      zoho: { secrets: ["clientSecret", "refreshToken"], destinations: ["accountsUrl:url", "apiDomain:origin"] },
      pipedrive: { secrets: ["apiToken", "oauth.clientSecret", "oauth.refreshToken"], destinations: ["baseUrl:origin", "oauth.tokenUrl:url"] },
      zendesk: { secrets: ["apiToken", "oauth.clientSecret", "oauth.refreshToken"], destinations: ["baseUrl:origin", "oauth.tokenUrl:url", "subdomain:name"] },
      freshdesk: { secrets: ["apiKey"], destinations: ["baseUrl:origin", "domain:name"] },
      dynamics365: { secrets: ["clientSecret", "refreshToken"], destinations: ["orgUrl:origin", "tokenUrl:url"] },
    });
    expect(changedDestinations({ kind: "rest", url: "https://a.example/{idContact}" } as never, { kind: "rest", url: "https://b.example/{idContact}" } as never, rest.destinations)).toEqual(["url"]);
  });
});
