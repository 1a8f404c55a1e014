import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startLocalEdge } from "../../scripts/local-edge.js";

describe("npm start with a bad secret", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "crm-bridge-misconfigured-"));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it("fails at start-up naming the secret, not at the first call, and never prints its value", async () => {
    const badKey = "bm90LTMyLWJ5dGVz"; // base64 of 12 bytes, not 32
    const started = startLocalEdge({ stateDir, secrets: { adminToken: "op_local-test-token", encryptionKey: badKey } });
    const err = (await started.then(
      async (edge) => {
        await edge.close();
        return null;
      },
      (e: unknown) => e,
    )) as Error | null;
    expect(err?.message).toMatch(/misconfigured: ENCRYPTION_KEY must be 32 random bytes/);
    expect(err?.message).not.toContain(badKey);
  }, 60_000);
});
