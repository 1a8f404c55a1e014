import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalEdge } from "../../scripts/local-edge.js";

export type StartedEdge = { url: string; operatorToken: string; stateDir: string; close(): Promise<void> };

/** The real worker in local workerd on a random loopback port, with fresh D1/KV in a temp dir. */
export async function startEdge(opts: { stateDir?: string; port?: number } = {}): Promise<StartedEdge> {
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), "crm-bridge-edge-"));
  // Fixed secrets: a restarted edge on the same state directory must read what it wrote.
  const edge = await startLocalEdge({ stateDir, port: opts.port ?? 0, secrets: { adminToken: "op_test_operator_token", encryptionKey: Buffer.alloc(32, 7).toString("base64") } });
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
