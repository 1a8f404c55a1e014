import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { unstable_startWorker } from "wrangler";
import { assertPortFree } from "./port.js";

const ROOT = resolve(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const quietWrangler = { WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
Object.assign(process.env, quietWrangler);

export type LocalSecrets = { adminToken: string; encryptionKey: string };

/** The state file is unreadable: what to do says which data a fresh one would cost. */
export class LocalStateError extends Error {}

function readSaved(file: string): Partial<LocalSecrets> {
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    saved = e;
  }
  const ok = (v: unknown) => v === undefined || (typeof v === "string" && v.length > 0);
  if (saved && typeof saved === "object" && !(saved instanceof Error) && !Array.isArray(saved)) {
    const { adminToken, encryptionKey } = saved as Record<string, unknown>;
    if (ok(adminToken) && ok(encryptionKey)) return saved as Partial<LocalSecrets>;
  }
  const why = saved instanceof Error ? `is not JSON (${saved.message})` : `does not hold {"adminToken": "…", "encryptionKey": "…"}`;
  throw new LocalStateError(
    `${file} ${why}. Restore it from a copy, or delete it to get a new operator token and encryption key ` +
      `(connector secrets already stored in this state directory cannot be read with a new key: ` +
      `set ENCRYPTION_KEY to the old one, or delete the whole directory to start over).`,
  );
}

/**
 * Secrets of a local edge, generated on first start and kept under the state directory so the
 * next start finds the same data readable. A token given in the environment wins and is never written.
 */
export function localSecrets(stateDir: string, env = process.env): LocalSecrets & { adminTokenGenerated: boolean } {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, "crm-bridge-local.json");
  const saved = existsSync(file) ? readSaved(file) : {};
  const encryptionKey = env.ENCRYPTION_KEY ?? saved.encryptionKey ?? randomBytes(32).toString("base64");
  const adminToken = env.ADMIN_TOKEN ?? saved.adminToken ?? `op_${randomBytes(24).toString("base64url")}`;
  const toSave = { ...saved, encryptionKey, ...(env.ADMIN_TOKEN ? {} : { adminToken }) };
  writeFileSync(file, JSON.stringify(toSave, null, 2), { mode: 0o600 });
  return { adminToken, encryptionKey, adminTokenGenerated: !env.ADMIN_TOKEN && !saved.adminToken };
}

export async function applyMigrations(stateDir: string): Promise<void> {
  try {
    await promisify(execFile)(process.execPath, [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], {
      cwd: ROOT,
      env: { ...process.env, ...quietWrangler, CI: "true" },
    });
  } catch (e) {
    // wrangler's answer is a page of workerd stack; the line that names the cause is enough.
    const out = `${(e as { stderr?: string }).stderr ?? ""}\n${(e as { stdout?: string }).stdout ?? ""}`;
    const cause = /SQLITE_\w+|file is not a database|database disk image is malformed/.exec(out)?.[0] ?? out.split("\n").find((l) => /error/i.test(l))?.trim().slice(0, 300) ?? String(e);
    throw new LocalStateError(
      `applying the D1 migrations in ${stateDir} failed (${cause}). If the local database there is damaged, restore the directory from a copy, or delete it to start over (the next start seeds a new demo tenant).`,
    );
  }
}

export type LocalEdge = { url: string; adminToken: string; stateDir: string; close(): Promise<void> };

/** The real worker in local workerd (what `wrangler dev` runs), with D1/KV persisted under stateDir. */
export async function startLocalEdge(opts: { stateDir: string; port?: number; allowPrivate?: boolean; secrets?: LocalSecrets }): Promise<LocalEdge> {
  await assertPortFree("127.0.0.1", opts.port ?? 0);
  const secrets = opts.secrets ?? localSecrets(opts.stateDir);
  await applyMigrations(opts.stateDir);
  const worker = await unstable_startWorker({
    config: join(ROOT, "wrangler.toml"),
    envFiles: [],
    bindings: {
      ADMIN_TOKEN: { type: "secret_text", value: secrets.adminToken },
      ENCRYPTION_KEY: { type: "secret_text", value: secrets.encryptionKey },
      ALLOW_PRIVATE_CRM_URLS: { type: "plain_text", value: String(opts.allowPrivate ?? true) },
      LOCAL_MODE: { type: "plain_text", value: "true" },
    },
    dev: {
      server: { hostname: "127.0.0.1", port: opts.port ?? 0 },
      inspector: false,
      persist: opts.stateDir,
      watch: false,
      remote: false,
      logLevel: "warn",
    },
  });
  await worker.ready;
  const url = (await worker.url).toString().replace(/\/$/, "");
  // The worker checks its secrets on each isolate's first request (worker/env.ts): ask it now so
  // a bad ENCRYPTION_KEY / ADMIN_TOKEN stops `npm start` here rather than at the first call.
  const probe = await fetch(`${url}/v1/`);
  if (probe.status === 503) {
    const body = (await probe.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    if (body?.error?.code === "misconfigured") {
      await worker.dispose();
      throw new Error(body.error.message);
    }
  }
  return { url, adminToken: secrets.adminToken, stateDir: opts.stateDir, close: () => worker.dispose() };
}
