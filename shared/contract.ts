import { z } from "zod";
import { decision } from "./destination.js";
import { CUSTOMER_ID_PATTERN } from "./ids.js";
import { MAX_CALLER_NUMBER_LENGTH } from "./phone.js";

/**
 * The OMniLeads CRM contract (SPEC 2): what is POSTed. `callerNumber` is crm-bridge's
 * extension (issue 12): the calling number, looked up by phone instead of (or beside) the id.
 */
export const contractRequest = z
  .object({
    idContact: z.string().max(64).optional(),
    callerNumber: z.string().max(MAX_CALLER_NUMBER_LENGTH).optional(),
  })
  .refine((r) => r.idContact !== undefined || r.callerNumber !== undefined, "idContact or callerNumber");
export type ContractRequest = z.infer<typeof contractRequest>;

/**
 * …and what comes back. Anything else is a failure, never a crash. `idContact` is present
 * only when a caller-number lookup matched one customer: their id, so the agent can set
 * __OMLCODCLI / CUSTOMER_ID as if it had been typed. OMniLeads reads status and destination
 * alone (JSONELEMENT), so the extra key is harmless to it; a malformed one is dropped, not fatal.
 */
export const contractReply = z.object({
  status: z.enum(["ok", "fail"]),
  destination: decision,
  idContact: z.string().regex(CUSTOMER_ID_PATTERN).optional(),
});
export type ContractReply = z.infer<typeof contractReply>;

export const FAIL_REPLY = { status: "fail", destination: "false" } as const satisfies ContractReply;
export const MAX_REPLY_BYTES = 64 * 1024;

export type ReplyProblem = "bad_json" | "bad_shape" | "too_large";

/** Parses a CRM's reply body text; a problem code instead of throwing. */
export function parseContractReply(text: string): { ok: true; reply: ContractReply } | { ok: false; problem: ReplyProblem } {
  if (text.length > MAX_REPLY_BYTES) return { ok: false, problem: "too_large" };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: "bad_json" };
  }
  // A CRM echoing some other idContact (a name, a number) must not turn a good answer into a bad one.
  if (json !== null && typeof json === "object" && "idContact" in json) {
    const { idContact, ...rest } = json as Record<string, unknown>;
    json = typeof idContact === "string" && CUSTOMER_ID_PATTERN.test(idContact) ? { ...rest, idContact } : rest;
  }
  const parsed = contractReply.safeParse(json);
  return parsed.success ? { ok: true, reply: parsed.data } : { ok: false, problem: "bad_shape" };
}

/** The exact body Asterisk's CURL() sends (SPEC 2a). */
export function encodeContractForm(idContact: string): string {
  return new URLSearchParams({ idContact }).toString();
}
export const CONTRACT_HEADERS = {
  "Content-Type": "application/x-www-form-urlencoded",
  "User-Agent": "OMniLeads",
} as const;
