import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keepStoredSecrets, mergeSecrets, splitSecrets } from "./secrets.js";

const patterns = ["auth.token", "auth.password", "headers.*"];

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
    const stored = splitSecrets({ auth: { type: "bearer", token: "s3cret" } }, patterns).secrets;
    expect(keepStoredSecrets({ auth: { type: "bearer", token: "***" } }, stored, patterns)).toEqual({ config: { auth: { type: "bearer", token: "s3cret" } }, missing: [] });
    expect(keepStoredSecrets({ auth: { type: "bearer", token: "new" } }, stored, patterns).config.auth.token).toBe("new");
    expect(keepStoredSecrets({ headers: { "X-Key": "***" } }, stored, patterns).missing).toEqual(["headers.X-Key"]);
  });
});
