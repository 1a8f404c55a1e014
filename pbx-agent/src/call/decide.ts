import { decideMode } from "../../../shared/decision.js";
import type { Destination } from "../../../shared/destination.js";
import type { Interaction } from "../../../shared/node.js";
import type { Reason } from "../../../shared/reasons.js";
import type { LookupResult } from "../edge/client.js";
import type { Outcome } from "../routing/route-call.js";

export type Verdict = { outcome: Exclude<Outcome, "abandoned" | "invalid">; destination: Destination; reason: Reason | null };

type NodeDestinations = { interaction: Interaction; successDestination: Destination; failureDestination: Destination };

/**
 * SPEC 6 step 4: the shared mode decision as the node's destinations.
 * `lookup` is null for `none` (the agent decides alone).
 */
export function decide(node: NodeDestinations, lookup: LookupResult | null): Verdict {
  if (node.interaction === "none") return { outcome: "success", destination: node.successDestination, reason: null };
  if (lookup === null) return { outcome: "failure", destination: node.failureDestination, reason: "no_crm" };
  const m = decideMode(node.interaction, lookup.ok ? { ok: true, ...lookup.reply } : lookup);
  switch (m.outcome) {
    case "success":
      return { outcome: "success", destination: node.successDestination, reason: m.reason };
    case "route":
      return { outcome: "crm", destination: m.destination, reason: m.reason };
    case "failure":
      // The agent counts its own deadline apart: SPEC 6 step 8's timeout outcome.
      return { outcome: m.reason === "edge_timeout" ? "timeout" : "failure", destination: node.failureDestination, reason: m.reason };
  }
}
