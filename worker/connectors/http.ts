import type { z } from "zod";
import { toBase64 } from "../security/crypto.js";
import { OverBudgetError, readCappedText } from "../../shared/read-capped.js";
import { urlRefusal } from "../security/ssrf.js";
import { CrmError, crmStatusError } from "./errors.js";
import { leaseReplyBytes } from "./reply-budget.js";
import type { SentValues } from "./scrub.js";

export interface CrmFetchOptions {
  /** Aborted at the step's deadline; the lookup then fails as crm_timeout. */
  signal: AbortSignal;
  allowPrivate: boolean;
  /** Replies larger than this are refused unread (REPLY_CAP in reply-budget.ts). */
  maxBytes: number;
  /** Collects the credentials and headers sent, so an echo of them can be scrubbed from the record. */
  sent?: SentValues | undefined;
  /** Sees every CRM reply's status and headers (the quota guard reads rate-limit headers). */
  observe?: (status: number, headers: Headers) => void;
}

const MAX_REDIRECTS = 3;

/**
 * fetch for CRM calls: SSRF rules on every hop, a hard size cap, and every transport
 * failure turned into a CrmError with a stable code. Never includes the request's
 * headers (credentials) in what it throws.
 */
export async function crmFetch(url: string, init: RequestInit, opts: CrmFetchOptions): Promise<{ status: number; headers: Headers; text: string }> {
  let target = url;
  opts.sent?.headers(init.headers);
  for (let hop = 0; ; hop++) {
    const refusal = urlRefusal(target, opts.allowPrivate);
    if (refusal) throw new CrmError("url_not_allowed", `CRM URL refused: ${refusal}`);
    let res: Response;
    try {
      res = await fetch(target, { ...init, redirect: "manual", signal: opts.signal });
    } catch (e) {
      if (opts.signal.aborted) throw new CrmError("crm_timeout", "CRM did not answer in time");
      throw new CrmError("crm_unreachable", `CRM unreachable (${e instanceof Error ? e.name : "error"})`);
    }
    opts.observe?.(res.status, res.headers);
    if (res.status >= 300 && res.status < 400 && res.headers.has("location")) {
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new CrmError("crm_redirect", "too many redirects");
      target = new URL(res.headers.get("location")!, target).toString();
      const refusal = urlRefusal(target, opts.allowPrivate);
      if (refusal) throw new CrmError("url_not_allowed", `CRM redirect refused: ${refusal}`);
      // Credentials are bound to an origin (scheme, host, port): a redirect elsewhere, even only to
      // http:// on the same host where ALLOW_PRIVATE_CRM_URLS lets http through, must not carry them.
      if (new URL(target).origin !== new URL(url).origin) throw new CrmError("crm_redirect", "redirect to another origin refused");
      continue;
    }
    const text = await readCapped(res, opts);
    return { status: res.status, headers: res.headers, text };
  }
}

async function readCapped(res: Response, opts: CrmFetchOptions): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (declared > opts.maxBytes) {
    await res.body?.cancel();
    throw new CrmError("crm_reply_too_large", "CRM reply too large");
  }
  let text: string | null;
  // Every CRM read draws on the isolate's reply budget; the lease is given back on every path
  // (done, too large, over budget, aborted at the deadline, connection broken).
  const lease = leaseReplyBytes();
  try {
    text = await readCappedText(res.body, opts.maxBytes, lease);
  } catch (e) {
    if (e instanceof OverBudgetError) throw new CrmError("edge_busy", "too many large CRM replies in flight in this isolate");
    if (opts.signal.aborted) throw new CrmError("crm_timeout", "CRM did not answer in time");
    throw new CrmError("crm_unreachable", "CRM connection broke");
  } finally {
    lease.release();
  }
  if (text === null) throw new CrmError("crm_reply_too_large", "CRM reply too large");
  return text;
}

export function authHeaders(auth: { type: "bearer"; token: string } | { type: "basic"; username: string; password: string } | { type: "header"; name: string; value: string } | undefined): Record<string, string> {
  if (!auth) return {};
  switch (auth.type) {
    case "bearer":
      return { Authorization: `Bearer ${auth.token}` };
    case "basic":
      return { Authorization: basicAuth(auth.username, auth.password) };
    case "header":
      return { [auth.name]: auth.value };
  }
}

/** The parsed JSON of a 2xx reply from a CRM API; other statuses become their reason (crm_auth, crm_rate_limited, crm_http_N). */
export function crmJson(reply: { status: number; headers: Headers; text: string }): unknown {
  if (reply.status < 200 || reply.status >= 300) throw crmStatusError(reply.status, reply.headers, reply.text);
  try {
    return JSON.parse(reply.text);
  } catch {
    throw new CrmError("crm_bad_reply", "CRM reply is not JSON");
  }
}

/** A reply parsed against the shape the CRM documents; anything else is crm_bad_reply. */
export function crmShape<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new CrmError("crm_bad_reply", "CRM reply does not have the documented shape");
  return r.data;
}

// UTF-8 first: btoa alone throws on any character above U+00FF (an e-mail with an accent).
export const basicAuth = (user: string, password: string) => `Basic ${toBase64(new TextEncoder().encode(`${user}:${password}`))}`;
