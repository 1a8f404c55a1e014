import { readFileSync } from "node:fs";
import { z } from "zod";
import { destinationsFile, type DestinationsFile } from "../../../shared/destinations-file.js";
import { nodesFile, type NodesFile } from "../../../shared/node.js";

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const httpUrl = z.url({ protocol: /^https?$/ });
const appName = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, "a Stasis app name: letters, digits, _ and -");

/** The environment of SPEC 6, plus a few tuning knobs with safe defaults. */
export const agentEnv = z
  .object({
    ARI_URL: httpUrl.default("http://127.0.0.1:8088"),
    ARI_USERNAME: z.string().min(1),
    ARI_PASSWORD: z.string().min(1),
    ARI_APP: appName.default("crm-bridge"),
    ARI_PEER_APPS: z
      .string()
      .transform((v) => v.split(",").map((a) => a.trim()).filter(Boolean))
      .pipe(z.array(appName))
      .default([]),
    ARI_PEER_DEAD_MS: int(500, 60_000).default(3000),
    EDGE_URL: httpUrl.optional(),
    EDGE_KEY: z.string().min(1).optional(),
    EDGE_TIMEOUT_MS: int(50, 30_000).default(2000),
    DESTINATIONS_FILE: z.string().min(1),
    NODES_FILE: z.string().min(1).optional(),
    STATE_DIR: z.string().min(1).default(".crm-bridge-agent"),
    METRICS_PORT: int(0, 65_535).default(9464),
    METRICS_HOST: z.string().min(1).default("0.0.0.0"),
    NODE_CACHE_TTL_MS: int(0, 3_600_000).default(30_000),
    SHUTDOWN_GRACE_MS: int(0, 120_000).default(10_000),
    ARI_RECONNECT_MAX_MS: int(100, 300_000).default(30_000),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .superRefine((e, ctx) => {
    if (!e.EDGE_URL && !e.NODES_FILE) ctx.addIssue({ code: "custom", path: ["EDGE_URL"], message: "required unless NODES_FILE is set" });
    if (e.ARI_PEER_APPS.includes(e.ARI_APP)) ctx.addIssue({ code: "custom", path: ["ARI_PEER_APPS"], message: "must not name this agent's own ARI_APP" });
    if (e.EDGE_URL && !e.EDGE_KEY) ctx.addIssue({ code: "custom", path: ["EDGE_KEY"], message: "required with EDGE_URL (an agent key)" });
  });
export type AgentEnv = z.infer<typeof agentEnv>;

export type AgentConfig = {
  ari: { url: string; username: string; password: string; app: string; reconnectMaxMs: number };
  /** Other agents on the same Asterisk, each with its own app: their calls are taken over when they stop beating. */
  peers: { apps: string[]; deadMs: number };
  edge: { url: string; key: string } | null;
  edgeTimeoutMs: number;
  destinations: DestinationsFile;
  nodesFile: NodesFile | null;
  stateDir: string;
  metrics: { port: number; host: string } | null;
  nodeCacheTtlMs: number;
  shutdownGraceMs: number;
  logLevel: AgentEnv["LOG_LEVEL"];
};

export class ConfigError extends Error {
  readonly code = "bad_config";
  constructor(readonly variable: string, detail: string) {
    super(`${variable}: ${detail}`);
  }
}

function readJsonFile<T>(variable: string, path: string, schema: z.ZodType<T>): T {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(variable, `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(variable, `${path} is not JSON (${(e as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.join(".")}` : "";
    throw new ConfigError(variable, `${path} is invalid${where}: ${first?.message ?? "bad shape"}`);
  }
  return parsed.data;
}

/** Parses the environment and the files it names; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined>): AgentConfig {
  // Empty strings come from `FOO=` in unit files and compose files; treat them as unset.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = agentEnv.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? "environment");
    const detail = issue.code === "invalid_type" && cleaned[variable] === undefined ? "required" : issue.message;
    throw new ConfigError(variable, detail);
  }
  const e = parsed.data;
  return {
    ari: { url: e.ARI_URL, username: e.ARI_USERNAME, password: e.ARI_PASSWORD, app: e.ARI_APP, reconnectMaxMs: e.ARI_RECONNECT_MAX_MS },
    peers: { apps: e.ARI_PEER_APPS, deadMs: e.ARI_PEER_DEAD_MS },
    edge: e.EDGE_URL && e.EDGE_KEY ? { url: e.EDGE_URL.replace(/\/+$/, ""), key: e.EDGE_KEY } : null,
    edgeTimeoutMs: e.EDGE_TIMEOUT_MS,
    destinations: readJsonFile("DESTINATIONS_FILE", e.DESTINATIONS_FILE, destinationsFile),
    nodesFile: e.NODES_FILE ? readJsonFile("NODES_FILE", e.NODES_FILE, nodesFile) : null,
    stateDir: e.STATE_DIR,
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST },
    nodeCacheTtlMs: e.NODE_CACHE_TTL_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    logLevel: e.LOG_LEVEL,
  };
}
