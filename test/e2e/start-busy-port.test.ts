import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTs, type Proc } from "../support/processes.js";

/** The exit code, or "hung" if the process is still running after `ms`. */
function exitWithin(p: Proc, ms: number): Promise<number | null | "hung"> {
  if (p.child.exitCode !== null) return Promise.resolve(p.child.exitCode);
  return new Promise((r) => {
    const timer = setTimeout(() => r("hung"), ms);
    p.child.once("exit", (code) => {
      clearTimeout(timer);
      r(code);
    });
  });
}

let squatter: Server;
let port: number;
let stateDir: string;
beforeAll(async () => {
  squatter = createServer();
  await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", () => r()));
  port = (squatter.address() as { port: number }).port;
  stateDir = mkdtempSync(join(tmpdir(), "crm-bridge-busy-"));
});
afterAll(async () => {
  await new Promise((r) => squatter.close(r));
  rmSync(stateDir, { recursive: true, force: true });
});

it("npm start on a busy EDGE_PORT says so and exits non-zero instead of waiting", async () => {
  const started = Date.now();
  const p = startTs("scripts/start.ts", { EDGE_PORT: String(port), EDGE_STATE_DIR: stateDir });
  const line = await p.waitFor(/port \d+ .*already in use/, 15_000);
  expect(line[0]).toContain(String(port));
  const code = await exitWithin(p, 10_000);
  await p.stop("SIGKILL");
  expect(code).toBe(1);
  // Without the check it never ends; with it the time is Node and tsx starting up, not wrangler's import.
  expect(Date.now() - started).toBeLessThan(5000);
  expect(p.output.join("\n")).toContain("EDGE_PORT=");
}, 30_000);

it("npm start with an EDGE_PORT that is not a port exits 2 at once", async () => {
  const p = startTs("scripts/start.ts", { EDGE_PORT: "eighty", EDGE_STATE_DIR: stateDir });
  await p.waitFor(/EDGE_PORT must be a port number/, 15_000);
  const code = await exitWithin(p, 10_000);
  await p.stop("SIGKILL");
  expect(code).toBe(2);
}, 30_000);

it("npm start on a busy METRICS_PORT (the agent's) says so and exits non-zero before starting the edge", async () => {
  const started = Date.now();
  const p = startTs("scripts/start.ts", { EDGE_PORT: "0", METRICS_PORT: String(port), EDGE_STATE_DIR: stateDir });
  const line = await p.waitFor(/port \d+ on 127.0.0.1 \(METRICS_PORT\) .*already in use/, 15_000);
  expect(line[0]).toContain(String(port));
  const code = await exitWithin(p, 10_000);
  await p.stop("SIGKILL");
  expect(code).toBe(1);
  expect(Date.now() - started).toBeLessThan(5000);
  expect(p.output.join("\n")).not.toContain("crm-bridge edge:");
}, 30_000);

it("npm start whose agent cannot run stops the edge and exits with the agent's code, instead of running half", async () => {
  const p = startTs("scripts/start.ts", { EDGE_PORT: "0", METRICS_PORT: "0", EDGE_STATE_DIR: stateDir, DESTINATIONS_FILE: join(stateDir, "no-such-destinations.json") });
  try {
    await p.waitFor(/DESTINATIONS_FILE: cannot read/, 60_000);
    const code = await exitWithin(p, 20_000);
    expect(code).toBe(2);
    expect(p.output.join("\n")).toContain("the PBX agent exited (code 2); stopping the edge");
  } finally {
    // SIGTERM, not SIGKILL: a start that did not stop by itself still closes its edge (no stray workerd).
    await p.stop("SIGTERM");
  }
}, 90_000);

it("npm start on a damaged state directory names the file and what to do, exits 1, and prints no stack trace", async () => {
  const damaged = mkdtempSync(join(tmpdir(), "crm-bridge-damaged-"));
  try {
    writeFileSync(join(damaged, "crm-bridge-local.json"), "{nope");
    const p = startTs("scripts/start.ts", { EDGE_PORT: "0", EDGE_STATE_DIR: damaged });
    await p.waitFor(/crm-bridge-local\.json is not JSON/, 20_000);
    const code = await exitWithin(p, 10_000);
    await p.stop("SIGKILL");
    expect(code).toBe(1);
    const out = p.output.join("\n");
    expect(out).toContain("delete it to get a new operator token and encryption key");
    expect(out).not.toMatch(/^\s+at /m);
  } finally {
    rmSync(damaged, { recursive: true, force: true });
  }
}, 30_000);
