import type { Env } from "../env.js";
import { log, type AdminLine } from "../observability/log.js";
import { notFound } from "./errors.js";

/**
 * What a service needs from the request that called it, whether it came through the API or an
 * admin page: the bindings, the request id (for the log), who acts, and a way to finish work after
 * the answer (ctx.waitUntil).
 */
export type ServiceContext = {
  env: Env;
  requestId: string;
  /** "operator" or the acting key's id: it goes into the admin log line. */
  actor: string;
  defer: (p: Promise<unknown>) => void;
};

/** The parts of a Hono context (API or admin pages) a service context is made from. */
type RequestLike = {
  env: Env;
  var: { requestId: string; principal?: { kind: "operator" } | { kind: "key"; id: string } };
  executionCtx: { waitUntil(p: Promise<unknown>): void };
};

export function serviceContext(c: RequestLike): ServiceContext {
  const p = c.var.principal;
  return {
    env: c.env,
    requestId: c.var.requestId,
    actor: p?.kind === "key" ? p.id : "operator",
    defer: (x) => c.executionCtx.waitUntil(x),
  };
}

/** The one log line of an admin change. */
export function logChange(ctx: ServiceContext, tenant: string, action: string, target: string, outcome: AdminLine["outcome"], started: number): void {
  log({ event: "admin", requestId: ctx.requestId, tenant, action, target, outcome, actor: ctx.actor, ms: Date.now() - started });
}

/** A delete or revoke of one object: not_found when there was none, else its admin log line. */
export async function removeOne(
  ctx: ServiceContext,
  tenant: string,
  o: { what: string; id: string; action: string; outcome: "deleted" | "revoked" },
  remove: () => Promise<boolean>,
): Promise<void> {
  const started = Date.now();
  if (!(await remove())) throw notFound(o.what);
  logChange(ctx, tenant, o.action, o.id, o.outcome, started);
}
