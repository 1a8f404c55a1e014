import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

/** `npm start` in a fresh copy of the repository (its tracked files only), as a newcomer runs it. */
function npmStart(dir: string, env: Record<string, string>) {
  const child = spawn("npm", ["start"], { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const waitFor = async (re: RegExp, ms = 60_000) => {
    const end = Date.now() + ms;
    while (!re.test(out)) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`npm start: no ${re} in:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return out.match(re)!;
  };
  const stop = async () => {
    if (child.exitCode !== null) return;
    process.kill(-child.pid!, "SIGINT");
    await new Promise((r) => child.once("exit", r));
  };
  return { waitFor, stop, output: () => out };
}

describe("the README's commands on a fresh copy", () => {
  const dir = mkdtempSync(join(tmpdir(), "crm-bridge-fresh-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("npm start seeds the demo tenant once, prints keys and curl lines that work, and starts the agent", async () => {
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
    for (const f of files) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
    // `npm ci` is the first half of the README line; the installed tree is reused rather than downloaded again.
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const env = { EDGE_PORT: port, METRICS_PORT: "0", ARI_URL: "http://127.0.0.1:9" };

    const first = npmStart(dir, env);
    const curl = (await first.waitFor(/curl -s -X POST -A OMniLeads -d idContact=12340 '([^']+)'/))[1]!;
    expect(first.output()).toMatch(/operator token \(ADMIN_TOKEN, shown once/);
    expect(first.output()).toContain("(seeded now)");
    const res = await fetch(curl, { method: "POST", headers: { "user-agent": "OMniLeads", "content-type": "application/x-www-form-urlencoded" }, body: "idContact=12340" });
    expect(await res.json()).toEqual({ status: "ok", destination: "1,3" });
    // The agent half is running and says why it cannot reach Asterisk, without giving up.
    await first.waitFor(/ARI|ari/);
    await first.stop();

    const second = npmStart(dir, env);
    await second.waitFor(/nodes: plain, payments, vip-routing \(seeded before\)/);
    expect(second.output()).not.toMatch(/operator token/);
    const again = (await second.waitFor(/-d idContact=12340 '([^']+)'/))[1]!;
    expect(again).toBe(curl);
    await second.stop();
  }, 150_000);
});
