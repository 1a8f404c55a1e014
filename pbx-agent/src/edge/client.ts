import { CONTRACT_HEADERS, encodeContractForm, MAX_REPLY_BYTES, parseContractReply, type ContractReply } from "../../../shared/contract.js";
import { readCappedText } from "../../../shared/read-capped.js";
import { node as nodeSchema, type Node } from "../../../shared/node.js";

/** Why a CRM answer could not be used; logged and counted, never thrown past the call. */
export type LookupFailure = "edge_timeout" | "edge_unreachable" | `edge_http_${number}` | "edge_bad_reply" | "edge_reply_too_large" | "aborted";

/** `requestId`: the X-Request-Id the edge answered with, the key to its log line for this call. */
export type LookupResult =
  /** `bridgeReason`: the edge's X-Bridge-Reason (why a caller number named nobody: `ambiguous`, `caller_number_not_found`, …). */
  | { ok: true; reply: ContractReply; ms: number; requestId?: string | undefined; bridgeReason?: string }
  | { ok: false; reason: LookupFailure; ms: number; requestId?: string | undefined };

export type LookupTarget =
  /** The edge's identify endpoint for one tenant's node, with an agent key. */
  | { kind: "edge"; baseUrl: string; key: string; tenant: string; node: string }
  /** A CRM that already speaks the OMniLeads contract (NODES_FILE `url`), asked exactly as OMniLeads asks it. */
  | { kind: "url"; url: string };

export type LookupOptions = {
  /** Epoch ms by which an answer must be in: input end + EDGE_TIMEOUT_MS (SPEC 6 step 8). */
  deadlineAt: number;
  /** The call's own signal: aborted when the caller hangs up. */
  signal?: AbortSignal | undefined;
  now?: () => number;
  /** The call's id, sent to the edge as X-Request-Id so `wrangler tail --header` finds this call. */
  requestId?: string | undefined;
};

/** The edge keeps an X-Request-Id only if it is [A-Za-z0-9_=-]{1,255}; Asterisk ids have a dot ("1733050000.123"). */
export function edgeRequestId(callId: string): string {
  return callId.replace(/[^\w=-]/g, "-").slice(0, 255);
}

/** What we tell the edge about our budget: a little less than what is left, so its answer can still travel back in time. */
export function deadlineHeaderMs(remainingMs: number): number {
  return Math.max(1, Math.floor(remainingMs - Math.min(100, remainingMs * 0.1)));
}

function identifyUrl(t: Extract<LookupTarget, { kind: "edge" }>): string {
  return `${t.baseUrl}/v1/tenants/${encodeURIComponent(t.tenant)}/nodes/${encodeURIComponent(t.node)}/identify`;
}

/** Who is looked up: the typed id (a string, as OMniLeads posts it) or the calling number (issue 12). */
export type LookupSubject = string | { callerNumber: string };

/** The form body: `idContact=…` exactly as OMniLeads sends it, or `callerNumber=…` for a number lookup. */
export function lookupBody(who: LookupSubject): string {
  return typeof who === "string" ? encodeContractForm(who) : new URLSearchParams({ callerNumber: who.callerNumber }).toString();
}

/** An abort controller that fires after `ms`; `timedOut` tells that abort from any other failure. */
function abortAfter(ms: number): { controller: AbortController; timer: ReturnType<typeof setTimeout>; readonly timedOut: boolean } {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error("edge_timeout"));
  }, ms);
  return {
    controller,
    timer,
    get timedOut() {
      return timedOut;
    },
  };
}

/**
 * Asks for a decision about `who` with the exact OMniLeads form POST (SPEC 2a).
 * Whatever the network does, this settles by `deadlineAt`: a timer aborts the request
 * and the body read, and is cleared as soon as the answer is in.
 */
export async function lookupCustomer(target: LookupTarget, who: LookupSubject, opts: LookupOptions): Promise<LookupResult> {
  const now = opts.now ?? Date.now;
  const started = now();
  const remaining = opts.deadlineAt - started;
  if (opts.signal?.aborted) return { ok: false, reason: "aborted", ms: 0 };
  if (remaining <= 0) return { ok: false, reason: "edge_timeout", ms: 0 };

  const deadline = abortAfter(remaining);
  const controller = deadline.controller;
  const onCallAbort = () => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", onCallAbort, { once: true });

  const headers: Record<string, string> = { ...CONTRACT_HEADERS };
  let url: string;
  if (target.kind === "edge") {
    url = identifyUrl(target);
    headers.Authorization = `Bearer ${target.key}`;
    headers["X-Deadline-Ms"] = String(deadlineHeaderMs(remaining));
    if (opts.requestId) headers["X-Request-Id"] = edgeRequestId(opts.requestId);
  } else {
    url = target.url;
  }
  const elapsed = () => now() - started;
  try {
    const res = await fetch(url, { method: "POST", headers, body: lookupBody(who), signal: controller.signal, redirect: "error" });
    const echoed = res.headers.get("x-request-id");
    const requestId = echoed ? { requestId: echoed } : {};
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, reason: `edge_http_${res.status}`, ms: elapsed(), ...requestId };
    }
    const text = await readCappedText(res.body, MAX_REPLY_BYTES);
    if (text === null) return { ok: false, reason: "edge_reply_too_large", ms: elapsed(), ...requestId };
    const parsed = parseContractReply(text);
    const why = res.headers.get("x-bridge-reason");
    const bridgeReason = why && /^[a-z0-9_]{1,64}$/.test(why) ? { bridgeReason: why } : {};
    return parsed.ok ? { ok: true, reply: parsed.reply, ms: elapsed(), ...requestId, ...bridgeReason } : { ok: false, reason: "edge_bad_reply", ms: elapsed(), ...requestId };
  } catch {
    if (deadline.timedOut) return { ok: false, reason: "edge_timeout", ms: elapsed() };
    if (opts.signal?.aborted) return { ok: false, reason: "aborted", ms: elapsed() };
    return { ok: false, reason: "edge_unreachable", ms: elapsed() };
  } finally {
    clearTimeout(deadline.timer);
    opts.signal?.removeEventListener("abort", onCallAbort);
  }
}

export type NodeFetchResult =
  | { ok: true; node: Node }
  | { ok: false; reason: "not_found" | "edge_timeout" | "edge_unreachable" | `edge_http_${number}` | "edge_bad_reply" };

/** `GET /v1/tenants/:t/nodes/:n` with the agent key; the reply is parsed with the shared node schema. */
export async function fetchNode(edge: { baseUrl: string; key: string }, tenant: string, nodeId: string, timeoutMs: number): Promise<NodeFetchResult> {
  const deadline = abortAfter(timeoutMs);
  try {
    const res = await fetch(`${edge.baseUrl}/v1/tenants/${encodeURIComponent(tenant)}/nodes/${encodeURIComponent(nodeId)}`, {
      headers: { Authorization: `Bearer ${edge.key}`, Accept: "application/json" },
      signal: deadline.controller.signal,
      redirect: "error",
    });
    if (res.status === 404) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, reason: "not_found" };
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, reason: `edge_http_${res.status}` };
    }
    const text = await readCappedText(res.body, MAX_REPLY_BYTES);
    if (text === null) return { ok: false, reason: "edge_bad_reply" };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, reason: "edge_bad_reply" };
    }
    // A newer edge may add fields to a node; an agent that refused them would fall back to
    // stale copies forever. Unknown keys are dropped; the known ones are still checked strictly.
    const known = json && typeof json === "object" && !Array.isArray(json) ? Object.fromEntries(Object.entries(json).filter(([k]) => k in nodeSchema.shape)) : json;
    const parsed = nodeSchema.safeParse(known);
    return parsed.success ? { ok: true, node: parsed.data } : { ok: false, reason: "edge_bad_reply" };
  } catch {
    return { ok: false, reason: deadline.timedOut ? "edge_timeout" : "edge_unreachable" };
  } finally {
    clearTimeout(deadline.timer);
  }
}
