import { parseDestination, type Destination } from "../../../shared/destination.js";
import type { Interaction } from "../../../shared/node.js";
import type { LookupResult } from "../edge/client.js";
import type { Outcome } from "../routing/route-call.js";

export type Verdict = { outcome: Exclude<Outcome, "abandoned" | "invalid">; destination: Destination; reason: string | null };

type NodeDestinations = { interaction: Interaction; successDestination: Destination; failureDestination: Destination };

/**
 * SPEC 6 step 4: what a valid id leads to, for each interaction type.
 * `lookup` is null for `none` (the agent decides alone).
 */
export function decide(node: NodeDestinations, lookup: LookupResult | null): Verdict {
  const success = (reason: string | null = null): Verdict => ({ outcome: "success", destination: node.successDestination, reason });
  const failure = (reason: string, outcome: Verdict["outcome"] = "failure"): Verdict => ({ outcome, destination: node.failureDestination, reason });
  if (node.interaction === "none") return success();
  if (lookup === null) return failure("no_crm");
  if (!lookup.ok) return lookup.reason === "edge_timeout" ? failure("edge_timeout", "timeout") : failure(lookup.reason);
  const { status, destination } = lookup.reply;
  if (status !== "ok") return failure("crm_fail");
  if (destination === "true") return success("crm_true");
  if (destination === "false") return failure("crm_false");
  if (node.interaction === "crm_true_false") return failure("crm_destination_on_true_false");
  const d = parseDestination(destination);
  return d ? { outcome: "crm", destination: d, reason: "crm_destination" } : failure("edge_bad_reply");
}
