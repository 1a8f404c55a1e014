/**
 * Every reason code the edge and the agent emit: the edge's `X-Bridge-Reason` header, its
 * decision log and metrics, the agent's call log. One list so the two sides name one case
 * alike, and a new code is a choice made here rather than a string typed somewhere.
 * Codes with a variable part are the template types below.
 */
export const REASONS = [
  // What the CRM did (edge connectors, SPEC 3).
  "crm_timeout",
  "crm_auth",
  "crm_rate_limited",
  "crm_quota",
  "crm_bad_reply",
  "crm_status_fail",
  "crm_unreachable",
  "crm_reply_too_large",
  "crm_redirect",
  "crm_error",
  "url_not_allowed",
  "invalid_query_value",
  // The edge's own refusals and chain outcomes (SPEC 4, 5).
  "circuit_open",
  "no_connector",
  "invalid_id",
  "invalid_length",
  "not_found",
  "edge_busy",
  "caller_number_unusable",
  "caller_number_not_found",
  "phone_lookup_unsupported",
  "ambiguous",
  // The mode decision (SPEC 6 step 4): what the answer meant.
  "crm_true",
  "crm_false",
  "crm_fail",
  "crm_destination",
  "crm_destination_on_true_false",
  // The agent asking the edge (or a contract URL).
  "edge_timeout",
  "edge_unreachable",
  "edge_bad_reply",
  "edge_reply_too_large",
  "aborted",
  // The agent's call flow.
  "no_crm",
  "no_edge",
  "bad_node_ref",
  "not_in_nodes_file",
  "attempts_exhausted",
  "chain_limit",
  "hangup",
  "shutdown",
  "orphaned",
  "shutdown_route_failed",
  "caller_hung_up",
] as const;

/** Patterns for the codes with a variable part; `isReason` checks these too. */
const HTTP = /^(crm|edge)_http_\d{3}$/;

export type FixedReason = (typeof REASONS)[number];
/** A code that names one thing that happened. */
export type BaseReason = FixedReason | `crm_http_${number}` | `edge_http_${number}`;
/** The agent's call log also says why a node could not be had, and what Asterisk refused (its message, cut). */
export type Reason = BaseReason | `no_node:${BaseReason}` | `ari_error:${string}`;

const fixed: ReadonlySet<string> = new Set(REASONS);
const isBase = (s: string) => fixed.has(s) || HTTP.test(s);

export function isReason(s: string): s is Reason {
  if (s.startsWith("no_node:")) return isBase(s.slice("no_node:".length));
  return s.startsWith("ari_error:") || isBase(s);
}
