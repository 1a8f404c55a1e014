import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalEdge } from "../../scripts/local-edge.js";

export type StartedEdge = { url: string; operatorToken: string; stateDir: string; close(): Promise<void> };

/** The real worker in local workerd on a random loopback port, with fresh D1/KV in a temp dir. */
export async function startEdge(opts: { stateDir?: string } = {}): Promise<StartedEdge> {
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), "crm-bridge-edge-"));
  const edge = await startLocalEdge({ stateDir, secrets: { adminToken: `op_test_${Date.now()}`, encryptionKey: Buffer.alloc(32, 7).toString("base64") } });
  return {
    url: edge.url,
    operatorToken: edge.adminToken,
    stateDir,
    close: async () => {
      await edge.close();
      if (!opts.stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
