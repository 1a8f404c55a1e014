import { readFileSync } from "node:fs";
import { z } from "zod";
import { destinationsFile, type DestinationsFile } from "../../../shared/destinations-file.js";
import { nodesFile, type NodesFile } from "../../../shared/node.js";

// zod's own wording ("Invalid input: expected number, received NaN", "Invalid URL") says what failed, not what to write.
const int = (min: number, max: number) => {
  const error = `a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const httpUrl = z.url({ protocol: /^https?$/, error: "an http:// or https:// address, such as http://127.0.0.1:8088" });
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
    // Loopback unless asked: /metrics and /healthz have no auth, so they are not offered to the network by default.
    METRICS_HOST: z.string().min(1).default("127.0.0.1"),
    NODE_CACHE_TTL_MS: int(0, 3_600_000).default(30_000),
    SHUTDOWN_GRACE_MS: int(0, 120_000).default(10_000),
    ARI_RECONNECT_MAX_MS: int(100, 300_000).default(30_000),
    // Asterisk core sounds: "If this is correct, press" + "one". Comma-separated media play as one playlist.
    CONFIRM_CALLER_SOUND: z.string().trim().min(1).max(500).default("sound:if-correct-press,sound:digits/1"),
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
  /** Played before routing on a caller-number match for nodes with `confirmCaller`; "1" accepts. */
  confirmCallerMedia: string;
  logLevel: AgentEnv["LOG_LEVEL"];
};

export class ConfigError extends Error {
  readonly code = "bad_config";
  constructor(
    readonly variable: string,
    detail: string,
    /** Every required setting that is unset, so a first run learns them all at once, not one per try. */
    readonly missing: MissingSetting[] = [],
  ) {
    super(`${variable}: ${detail}`);
  }
}

export type MissingSetting = { variables: string[]; detail: string; what: string };

/** The required settings absent from a (cleaned) environment, in the order SPEC 6 lists them. */
export function missingSettings(env: Record<string, string | undefined>): MissingSetting[] {
  const unset = (v: string) => env[v] === undefined;
  const out: MissingSetting[] = [];
  const ari = ["ARI_USERNAME", "ARI_PASSWORD"].filter(unset);
  if (ari.length) out.push({ variables: ari, detail: "required", what: "an ari.conf user (sample: pbx-agent/asterisk/ari.conf)" });
  if (unset("DESTINATIONS_FILE")) {
    out.push({ variables: ["DESTINATIONS_FILE"], detail: "required", what: "dialplan targets per destination type (e.g. pbx-agent/asterisk/destinations.asterisk.json)" });
  }
  if (unset("EDGE_URL") && unset("NODES_FILE")) {
    out.push({ variables: ["EDGE_URL", "EDGE_KEY"], detail: "required unless NODES_FILE is set", what: "the edge and an agent key of your tenant (or NODES_FILE for nodes from a local file)" });
  } else if (!unset("EDGE_URL") && unset("EDGE_KEY")) {
    out.push({ variables: ["EDGE_KEY"], detail: "required with EDGE_URL (an agent key)", what: "an agent key of your tenant" });
  }
  return out;
}

const MAX_FILE_ISSUES = 10;

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
    // Every problem at once (up to a screenful), so a hand-edited file is fixed in one pass, not one start per mistake.
    const issues = parsed.error.issues;
    const shown = issues.slice(0, MAX_FILE_ISSUES).map((i) => {
      // A bad key (a node id) is reported by zod as "Invalid key in record"; the rule it broke is nested.
      const inner = i.code === "invalid_key" ? i.issues[0] : undefined;
      return `${i.path.length > 0 ? ` at ${i.path.join(".")}` : ""}: ${inner?.message ?? i.message}`;
    });
    const more = issues.length > MAX_FILE_ISSUES ? `; and ${issues.length - MAX_FILE_ISSUES} more` : "";
    throw new ConfigError(variable, `${path} is invalid${shown.join(";") || ": bad shape"}${more}`);
  }
  return parsed.data;
}

/**
 * A `url` node is asked exactly as OMniLeads asks (`idContact` only): an unmodified OMniLeads CRM
 * web service has no idea what a `callerNumber` is and would answer about an empty id. Caller-number
 * identification needs the edge (a connector that can search by phone), so it is refused here
 * rather than failing every call.
 */
function checkUrlNodes(path: string, file: NodesFile): NodesFile {
  for (const [tenant, nodes] of Object.entries(file)) {
    for (const [id, n] of Object.entries(nodes)) {
      if (n.url !== undefined && n.identifyBy !== "dtmf") {
        throw new ConfigError("NODES_FILE", `${path} is invalid at ${tenant}.${id}.identifyBy: "${n.identifyBy}" needs a connector on the edge; a node with a CRM url is asked for the typed id only (use "dtmf")`);
      }
    }
  }
  return file;
}

const SECRET_SETTINGS = new Set(["ARI_PASSWORD", "EDGE_KEY"]);

/** Parses the environment and the files it names; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined>): AgentConfig {
  // Empty strings come from `FOO=` in unit files and compose files; treat them as unset.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const missing = missingSettings(cleaned);
  if (missing.length) throw new ConfigError(missing[0]!.variables[0]!, missing[0]!.detail, missing);
  const parsed = agentEnv.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? "environment");
    // The value typed, beside the rule it broke, except for settings that hold a secret.
    const value = cleaned[variable];
    const got = value !== undefined && !SECRET_SETTINGS.has(variable) ? ` (got ${JSON.stringify(value.slice(0, 200))})` : "";
    const detail = issue.code === "invalid_type" && value === undefined ? "required" : `${issue.message}${got}`;
    throw new ConfigError(variable, detail);
  }
  const e = parsed.data;
  return {
    ari: { url: e.ARI_URL, username: e.ARI_USERNAME, password: e.ARI_PASSWORD, app: e.ARI_APP, reconnectMaxMs: e.ARI_RECONNECT_MAX_MS },
    peers: { apps: e.ARI_PEER_APPS, deadMs: e.ARI_PEER_DEAD_MS },
    edge: e.EDGE_URL && e.EDGE_KEY ? { url: e.EDGE_URL.replace(/\/+$/, ""), key: e.EDGE_KEY } : null,
    edgeTimeoutMs: e.EDGE_TIMEOUT_MS,
    destinations: readJsonFile("DESTINATIONS_FILE", e.DESTINATIONS_FILE, destinationsFile),
    nodesFile: e.NODES_FILE ? checkUrlNodes(e.NODES_FILE, readJsonFile("NODES_FILE", e.NODES_FILE, nodesFile)) : null,
    stateDir: e.STATE_DIR,
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST },
    nodeCacheTtlMs: e.NODE_CACHE_TTL_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    confirmCallerMedia: e.CONFIRM_CALLER_SOUND,
    logLevel: e.LOG_LEVEL,
  };
}
