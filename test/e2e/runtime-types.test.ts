import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

// Proves the per-runtime tsconfigs hold the line: a probe file compiled under each runtime's
// config, exactly as `npm run typecheck` would compile a file in that directory.
const ROOT = resolve(import.meta.dirname, "../..");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const dir = join(ROOT, "test-output", `runtime-types-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NODE_API = `import { readFileSync } from "node:fs";\nexport const bytes = Buffer.from(readFileSync("x"));\n`;
const WEB_API = `export const text = new TextDecoder().decode(new Uint8Array([104, 105]));\n`;

async function typecheck(config: "shared" | "worker" | "agent", source: string, name: string) {
  const at = join(dir, `${config}-${name}`);
  mkdirSync(at, { recursive: true });
  writeFileSync(join(at, "probe.ts"), source);
  // shared/'s program carries its own declarations of the web globals it may use.
  const files = config === "shared" ? ["probe.ts", join(ROOT, "shared/web-standard.d.ts")] : ["probe.ts"];
  const tsconfig = { extends: join(ROOT, `tsconfig.${config}.json`), include: [], files };
  writeFileSync(join(at, "tsconfig.json"), JSON.stringify(tsconfig));
  try {
    await promisify(execFile)(process.execPath, [TSC, "-p", join(at, "tsconfig.json")], { cwd: ROOT });
    return { ok: true, out: "" };
  } catch (e) {
    return { ok: false, out: String((e as { stdout?: string }).stdout) };
  }
}

describe("a typecheck per runtime", () => {
  it("fails a Node API in shared/ and worker/, passes it in the agent; web-standard code passes everywhere", { timeout: 120_000 }, async () => {
    const [sharedNode, workerNode, agentNode, sharedWeb, workerWeb] = await Promise.all([
      typecheck("shared", NODE_API, "node"),
      typecheck("worker", NODE_API, "node"),
      typecheck("agent", NODE_API, "node"),
      typecheck("shared", WEB_API, "web"),
      typecheck("worker", WEB_API, "web"),
    ]);
    for (const r of [sharedNode, workerNode]) {
      expect(r.ok).toBe(false);
      expect(r.out).toMatch(/node:fs/);
      expect(r.out).toMatch(/Buffer/);
    }
    expect(agentNode).toEqual({ ok: true, out: "" });
    expect(sharedWeb).toEqual({ ok: true, out: "" });
    expect(workerWeb).toEqual({ ok: true, out: "" });
  });
});
