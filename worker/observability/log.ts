/**
 * The edge's log: one JSON object per line on stdout, which Workers Logs (`[observability]` in
 * wrangler.toml) indexes field by field and `wrangler tail` shows as it happens. Every line names
 * the request id the caller sent or was given (X-Request-Id), so one call can be followed from the
 * agent's log to this one. Only what is listed here is logged: never a secret, never a full id
 * (`maskedId` comes from maskId).
 */
export type IdentifyLine = {
  event: "identify";
  requestId: string;
  tenant: string;
  node: string;
  outcome: string;
  status: string;
  reason: string | null;
  cache: string;
  ms: number;
  maskedId: string;
};

export type AdminLine = {
  event: "admin";
  requestId: string;
  tenant: string;
  /** What changed: "connector.put", "node.delete", "key.create", "cache.purge"… */
  action: string;
  /** The object's id (a connector, a node, a key id); never a key or a secret. */
  target: string;
  outcome: "created" | "updated" | "deleted" | "revoked" | "purged";
  /** Who: "operator" or the key id. */
  actor: string;
  ms: number;
};

/** An exception nothing handled: only its name, never its message (it may quote data or a secret). */
export type ErrorLine = { event: "error"; msg: "unhandled"; requestId: string; where: "api" | "ui"; error: string };

/** Missing or invalid secrets: once per isolate, naming the binding, never its value. */
export type MisconfiguredLine = { event: "error"; msg: "misconfigured"; problem: string };

export type LogLine = IdentifyLine | AdminLine | ErrorLine | MisconfiguredLine;

type Sink = (line: string, level: "info" | "error") => void;
// Error lines go out as console.error, so Workers Logs and `wrangler tail` rank them as errors.
const sink: Sink = (line, level) => (level === "error" ? console.error(line) : console.log(line));

export function log(line: LogLine): void {
  const level = line.event === "error" ? "error" : "info";
  sink(JSON.stringify({ level, ...line }), level);
}
