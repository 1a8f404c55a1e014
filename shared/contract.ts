import { z } from "zod";
import { decision } from "./destination.js";

/** The OMniLeads CRM contract (SPEC 2): what is POSTed… */
export const contractRequest = z.object({ idContact: z.string().max(64) });
export type ContractRequest = z.infer<typeof contractRequest>;

/** …and what comes back. Anything else is a failure, never a crash. */
export const contractReply = z.object({
  status: z.enum(["ok", "fail"]),
  destination: decision,
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
