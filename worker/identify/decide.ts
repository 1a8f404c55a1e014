import type { ContractReply } from "../../shared/contract.js";
import { parseDestination } from "../../shared/destination.js";
import type { Interaction } from "../../shared/node.js";
import type { DecisionEntry } from "../store/decisions.js";
import type { ChainResult } from "./lookup-customer.js";

export type Decided = { reply: ContractReply; outcome: DecisionEntry["outcome"]; reason: string | null };

const ok = (destination: string): ContractReply => ({ status: "ok", destination });
const fail = (): ContractReply => ({ status: "fail", destination: "false" });

/** The node's mode applied to what the CRM chain said (SPEC 2 and 6 step 4). */
export function decide(interaction: Exclude<Interaction, "none">, chain: ChainResult): Decided {
  if (!chain.ok) return { reply: fail(), outcome: "failure", reason: chain.reason };
  const decided = decideFound(interaction, chain.decision);
  // SPEC 3: "not in the CRM" is told apart from "the CRM said false" for the log and the agent.
  return chain.notFound && decided.reason === null ? { ...decided, reason: "not_found" } : decided;
}

function decideFound(interaction: Exclude<Interaction, "none">, d: string): Decided {
  if (interaction === "crm_true_false") {
    // Only "true" is success; "false" and any destination are failure.
    return d === "true"
      ? { reply: ok("true"), outcome: "success", reason: null }
      : { reply: ok("false"), outcome: "failure", reason: d === "false" ? null : "destination_in_true_false_mode" };
  }
  if (d === "true") return { reply: ok("true"), outcome: "success", reason: null };
  if (d === "false") return { reply: ok("false"), outcome: "failure", reason: null };
  return parseDestination(d) ? { reply: ok(d), outcome: "route", reason: null } : { reply: fail(), outcome: "failure", reason: "crm_bad_reply" };
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
