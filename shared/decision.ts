import { parseDestination, type Destination } from "./destination.js";
import type { Interaction } from "./node.js";
import type { Reason } from "./reasons.js";

/** What came back for one lookup: a contract answer, or why there is none. */
export type CrmSaid = { ok: true; status: "ok" | "fail"; destination: string } | { ok: false; reason: Reason };

/**
 * The node's mode applied to an answer (SPEC 2 and 6 step 4). `clean` on a failure: the CRM
 * answered and its answer means failure ("false", or a destination where only true/false
 * counts), as opposed to no usable answer at all.
 */
export type ModeDecision =
  | { outcome: "success"; reason: "crm_true" }
  | { outcome: "route"; destination: Destination; reason: "crm_destination" }
  | { outcome: "failure"; reason: Reason; clean: boolean };

/** The one place the routing mode is decided; the edge maps it to its reply, the agent to a destination. */
export function decideMode(interaction: Exclude<Interaction, "none">, said: CrmSaid): ModeDecision {
  if (!said.ok) return { outcome: "failure", reason: said.reason, clean: false };
  if (said.status !== "ok") return { outcome: "failure", reason: "crm_fail", clean: false };
  const d = said.destination;
  if (d === "true") return { outcome: "success", reason: "crm_true" };
  if (d === "false") return { outcome: "failure", reason: "crm_false", clean: true };
  // Only "true" is success in true/false mode; a destination there is a failure, not a route.
  if (interaction === "crm_true_false") return { outcome: "failure", reason: "crm_destination_on_true_false", clean: true };
  const parsed = parseDestination(d);
  return parsed ? { outcome: "route", destination: parsed, reason: "crm_destination" } : { outcome: "failure", reason: "crm_bad_reply", clean: false };
}
