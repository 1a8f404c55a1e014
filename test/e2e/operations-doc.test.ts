import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const doc = readFileSync(join(ROOT, "docs/operations.md"), "utf8");

/** The runbook's `npx wrangler d1 …` lines that act on the deployment's own database (not a new one to restore into). */
const d1Lines = [...doc.matchAll(/^\s*npx wrangler d1 (.+)$/gm)].map((m) => m[1]!.replace(/\s+#.*$/, "")).filter((l) => / --env production/.test(l));

/** A wrangler command in `dir`, as an operator types it (the local database in place of the remote one). */
async function wrangler(dir: string, args: string[]) {
  return promisify(execFile)(process.execPath, [WRANGLER, ...args], {
    cwd: dir,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true" },
  });
}

/** The runbook's arguments with `--remote` dropped and `--local` added (and `$(date …)` left to a number). */
const asLocal = (line: string, env: string) =>
  [
    "d1",
    ...line
      .replace(/\$\(date \+%s%3N\)/, "1767225600000")
      .replace(/\$\(date \+%F\)/, "2026-12-01")
      .replace(/--remote /, "")
      .replace(/--env production/, `--env ${env}`)
      .match(/"[^"]*"|\S+/g)!
      .map((a) => a.replace(/^"|"$/g, "")),
    "--local",
  ];

describe("docs/operations.md's D1 commands", () => {
  const dir = mkdtempSync(join(tmpdir(), "crm-bridge-ops-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("name the database so that every line works with --env staging as with --env production", () => {
    expect(d1Lines.length).toBeGreaterThanOrEqual(6);
    // The binding, which each environment maps to its own database; a database name fits only one of them.
    for (const l of d1Lines) expect(l, l).toMatch(/^(time-travel \w+|migrations apply|export|execute) DB /);
  });

  it("export and execute, run against a local database in both environments, do what the runbook says", async () => {
    cpSync(join(ROOT, "wrangler.toml"), join(dir, "wrangler.toml"));
    cpSync(join(ROOT, "migrations"), join(dir, "migrations"), { recursive: true });
    const migrate = d1Lines.find((l) => l.startsWith("migrations apply"))!;
    const update = d1Lines.find((l) => l.startsWith("execute"))!;
    const exportLine = d1Lines.find((l) => l.startsWith("export"))!;
    for (const env of ["staging", "production"]) {
      await wrangler(dir, asLocal(migrate, env));
      await wrangler(dir, ["d1", "execute", "DB", "--env", env, "--local", "--command", `INSERT INTO tenants (id, name) VALUES ('acme-${env}', 'Acme')`]);
      await wrangler(dir, asLocal(update, env));
      const out = join(dir, `${env}.sql`);
      await wrangler(dir, [...asLocal(exportLine, env).filter((a, i, all) => a !== "--output" && all[i - 1] !== "--output"), "--output", out]);
      const sql = readFileSync(out, "utf8");
      expect(sql).toContain(`'acme-${env}'`);
      expect(sql).toContain("1767225600000");
    }
  }, 120_000);
});
