import type { ContractReply } from "../../shared/contract.js";
import { decideMode } from "../../shared/decision.js";
import type { Interaction } from "../../shared/node.js";
import type { Reason } from "../../shared/reasons.js";
import type { DecisionEntry } from "../store/decisions.js";
import type { ChainResult } from "./lookup-customer.js";

export type Decided = { reply: ContractReply; outcome: DecisionEntry["outcome"]; reason: Reason | null };

const ok = (destination: string): ContractReply => ({ status: "ok", destination });
const fail = (): ContractReply => ({ status: "fail", destination: "false" });

/**
 * The shared mode decision as the contract reply. A clean answer (true, false, a route) carries
 * no reason: `X-Bridge-Reason` and the decision log name only what went wrong.
 */
export function decide(interaction: Exclude<Interaction, "none">, chain: ChainResult): Decided {
  if (!chain.ok) return { reply: fail(), outcome: "failure", reason: chain.reason };
  const decided = decideFound(interaction, chain.decision);
  // SPEC 3: "not in the CRM" is told apart from "the CRM said false" for the log and the agent.
  return chain.notFound && decided.reason === null ? { ...decided, reason: "not_found" } : decided;
}

function decideFound(interaction: Exclude<Interaction, "none">, d: string): Decided {
  const m = decideMode(interaction, { ok: true, status: "ok", destination: d });
  switch (m.outcome) {
    case "success":
      return { reply: ok("true"), outcome: "success", reason: null };
    case "route":
      // The CRM's own spelling goes out: OMniLeads reads it, the edge only checked it.
      return { reply: ok(d), outcome: "route", reason: null };
    case "failure":
      if (!m.clean) return { reply: fail(), outcome: "failure", reason: m.reason };
      return { reply: ok("false"), outcome: "failure", reason: m.reason === "crm_false" ? null : m.reason };
  }
}

/**
 * A caller-number lookup's answer: a match is routed by the mode as if the customer had typed
 * their id, and the reply names them; anything else (unknown, ambiguous, CRM trouble) is fail,
 * so the agent can tell "identified" from "ask for the id".
 */
export function decideNumber(interaction: Interaction, chain: ChainResult): Decided {
  if (!chain.ok) return { reply: fail(), outcome: "failure", reason: chain.reason };
  // Mode none asks the CRM only whether the number is known: known is success.
  const decided: Decided = interaction === "none" ? { reply: ok("true"), outcome: "success", reason: null } : decide(interaction, chain);
  if (decided.reply.status !== "ok" || chain.customerId === undefined) return decided;
  return { ...decided, reply: { ...decided.reply, idContact: chain.customerId } };
}
