import { HANGUP_TYPE, NODE_TYPE, type Destination } from "../../../shared/destination.js";
import type { DestinationsFile, DialplanTarget } from "../../../shared/destinations-file.js";
import { CUSTOMER_ID_PATTERN } from "../../../shared/ids.js";

/** SPEC 6 step 5. */
export type Outcome = "success" | "failure" | "crm" | "timeout" | "invalid" | "abandoned";

export type Route =
  | { kind: "hangup" }
  /** Type 9: a customer-id node of the same tenant, whose id is the destination id (OMniLeads numbers its nodes). */
  | { kind: "node"; nodeId: string }
  | { kind: "dialplan"; target: DialplanTarget };

/** Where a destination goes: `types` first (even for 5 and 9), then hang-up / chain, then `default`. */
export function resolveRoute(file: DestinationsFile, d: Destination): Route {
  const listed = file.types[String(d.type)];
  if (listed) return { kind: "dialplan", target: fillTarget(listed, d) };
  if (d.type === HANGUP_TYPE) return { kind: "hangup" };
  if (d.type === NODE_TYPE) return { kind: "node", nodeId: String(d.id) };
  return { kind: "dialplan", target: fillTarget(file.default, d) };
}

export function fillTarget(t: DialplanTarget, d: Destination): DialplanTarget {
  return { ...t, extension: t.extension.replaceAll("{type}", String(d.type)).replaceAll("{id}", String(d.id)) };
}

/**
 * The channel variables set before routing, in the order they are set.
 * `__OMLCODCLI` (two underscores: inherited by the agent's leg) is what OMniLeads' agent
 * screen reads to find the customer. The ids are only set when the caller typed a valid id.
 */
export function routingVariables(digits: string | null, outcome: Outcome, d: Destination | null): Array<[string, string]> {
  const vars: Array<[string, string]> = [];
  if (digits !== null && CUSTOMER_ID_PATTERN.test(digits)) vars.push(["__OMLCODCLI", digits], ["CUSTOMER_ID", digits]);
  vars.push(["CRM_BRIDGE_OUTCOME", outcome]);
  if (d) vars.push(["CRM_BRIDGE_DEST_TYPE", String(d.type)], ["CRM_BRIDGE_DEST_ID", String(d.id)]);
  return vars;
}
