import type { Destination } from "../../../shared/destination.js";
import type { DestinationsFile, DialplanTarget } from "../../../shared/destinations-file.js";
import { CUSTOMER_ID_PATTERN, isValidCustomerId, maskId } from "../../../shared/ids.js";
import { normalizeCallerNumber, numberText } from "../../../shared/phone.js";
import type { Reason } from "../../../shared/reasons.js";
import type { LookupResult, LookupSubject, LookupTarget, lookupCustomer } from "../edge/client.js";
import type { NodeLookup, RunnableNode } from "../nodes/node-source.js";
import type { AgentMetrics } from "../observability/metrics.js";
import { resolveRoute, routingVariables, type Outcome, type Route } from "../routing/route-call.js";
import { CallStopped, stopOf, type CallChannel } from "./call-channel.js";
import { decide } from "./decide.js";
import { readDigits } from "./read-digits.js";

export const MAX_CHAIN = 5;
export const CONFIRM_TIMEOUT_MS = 5000;

export type CallDeps = {
  nodes: { get(tenant: string, node: string): Promise<NodeLookup> };
  destinations: DestinationsFile;
  edge: { baseUrl: string; key: string } | null;
  edgeTimeoutMs: number;
  lookup: typeof lookupCustomer;
  /** Monotonic milliseconds (performance.now): timers, deadlines and timings all use it. */
  now: () => number;
  metrics?: AgentMetrics | null;
  confirmTimeoutMs?: number;
  /** CONFIRM_CALLER_SOUND: asked before routing on a caller-number match when the node has `confirmCaller`. */
  confirmCallerMedia?: string;
};

export const DEFAULT_CONFIRM_CALLER_MEDIA = "sound:if-correct-press,sound:digits/1";

export type CallReport = {
  callId: string;
  tenant: string;
  node: string;
  chain: string[];
  outcome: Outcome;
  reason: Reason | null;
  /** Masked to the last 2 digits (never the full id in a log). */
  customerId: string | null;
  attempts: number;
  destination: Destination | null;
  route: Route["kind"] | "fallback" | "none";
  /** How the customer was identified: by the typed id, by the calling number, or not at all. */
  identifiedBy: "dtmf" | "caller_number" | null;
  /** What the caller-number step gave (null: the node identifies by DTMF only). Never the number itself. */
  callerLookup: CallerLookup | null;
  nodeOrigin: string | null;
  timings: { totalMs: number; edgeMs: number | null; inputEndToRouteMs: number | null };
  /** The X-Request-Id of the edge's answer: its identify log line carries the same requestId. */
  edgeRequestId: string | null;
};

/**
 * found / not_found (the edge answered without a customer: unknown or ambiguous) / unusable
 * (withheld, empty or malformed: the edge is not asked) / an edge failure / refused or
 * typed_ahead (a match the caller did not confirm, or typed over) .
 */
export type CallerLookup = "found" | "not_found" | "ambiguous" | "unusable" | "no_crm" | "refused" | "typed_ahead" | Exclude<LookupResult, { ok: true }>["reason"];

type Decided = { outcome: Outcome; reason: Reason | null; destination: Destination | null; digits: string | null };

/**
 * ARI plays only media URIs (`sound:`, `recording:`, `digits:`…); a bare file name, as
 * OMniLeads' audio fields hold them, is a sound.
 */
export function mediaUri(audio: string): string {
  return /^[a-z]+:/i.test(audio) ? audio : `sound:${audio}`;
}

/**
 * The read-back as one playlist of `sound:digits/N` files. Not ARI's `digits:` media: Asterisk
 * cannot stop that one (`DELETE /playbacks/{id}` answers 500 "Could not stop playback"), so the
 * caller's key would wait behind the whole read-back; a playlist of sounds stops at once.
 */
export function readBackMedia(digits: string): string {
  return [...digits].map((d) => `sound:digits/${d}`).join(",");
}

/** Where a node's lookups go: its CRM url, else the edge's identify endpoint; null when neither is there. */
function lookupTarget(node: RunnableNode, deps: CallDeps): LookupTarget | null {
  if (node.url) return { kind: "url", url: node.url };
  if (deps.edge) return { kind: "edge", baseUrl: deps.edge.baseUrl, key: deps.edge.key, tenant: node.tenant, node: node.id };
  return null;
}

/** One lookup, metered; a hang-up during it ends the call. */
async function ask(channel: CallChannel, target: LookupTarget, who: LookupSubject, deadlineAt: number, deps: CallDeps, report: CallReport, kind: string): Promise<LookupResult> {
  const result = await deps.lookup(target, who, { deadlineAt, signal: channel.signal, now: deps.now, requestId: channel.id });
  report.timings.edgeMs = Math.round(((report.timings.edgeMs ?? 0) + result.ms) * 10) / 10;
  report.edgeRequestId = result.requestId ?? report.edgeRequestId ?? null;
  deps.metrics?.edgeLatency.observe({ kind, result: result.ok ? "ok" : result.reason }, result.ms / 1000);
  if (!result.ok && result.reason === "edge_timeout") deps.metrics?.edgeTimeouts.inc();
  if (!result.ok && result.reason === "aborted") throw new CallStopped(stopOf(channel.signal) ?? { code: "hangup" });
  return result;
}

/**
 * What the caller's number says we can send: E.164 when it reads as one with the node's country;
 * the number as the PBX gave it when only the edge can tell (national format, no node country:
 * the tenant's country applies there); null when no country could make it usable (empty,
 * withheld, letters, an invalid international number), so the edge is not asked at all.
 */
export function callerNumberToSend(raw: string, defaultCountry: string | undefined): string | null {
  const r = normalizeCallerNumber(raw, defaultCountry);
  if (r.ok) return r.e164;
  // A URI or name-addr (a header copied into CRM_BRIDGE_CALLER_NUMBER) goes as its number only.
  const text = numberText(raw);
  if (defaultCountry || !/^[0-9 ()./-]+$/.test(text) || !/[0-9]{3}/.test(text)) return null;
  return text;
}

type Typed = Array<{ digit: string; at: number }>;
type ByNumber = { found: true; idContact: string; result: LookupResult } | { found: false; why: CallerLookup; result: LookupResult | null };

/** SPEC 6 / issue 12: one edge request with the calling number, under the same deadline as a typed id's. */
async function identifyByNumber(channel: CallChannel, node: RunnableNode, deps: CallDeps, report: CallReport): Promise<ByNumber> {
  const startedAt = deps.now();
  const number = callerNumberToSend(await channel.callerNumber(), node.defaultCountry);
  if (number === null) return { found: false, why: "unusable", result: null };
  const target = lookupTarget(node, deps);
  // A `url` CRM speaks only the OMniLeads contract (idContact); NODES_FILE refuses that pairing at load.
  if (!target || target.kind === "url") return { found: false, why: "no_crm", result: null };
  const result = await ask(channel, target, { callerNumber: number }, startedAt + deps.edgeTimeoutMs, deps, report, "identify_caller");
  if (!result.ok) return { found: false, why: result.reason, result };
  const id = result.reply.idContact;
  // Only a reply naming the one matched customer identifies the caller; unknown and ambiguous numbers carry none.
  // A shared line is told apart from an unknown number: the operator's fix differs (the CRM's duplicates).
  if (result.reply.status !== "ok" || id === undefined || !CUSTOMER_ID_PATTERN.test(id)) return { found: false, why: result.bridgeReason === "ambiguous" ? "ambiguous" : "not_found", result };
  return { found: true, idContact: id, result };
}

/** One node's part of the call: caller number, prompt, tries, confirm, lookup, decision (SPEC 6 steps 2–4). */
async function runOneNode(channel: CallChannel, node: RunnableNode, deps: CallDeps, report: CallReport, mark: { inputEnd: number | null }): Promise<Decided> {
  const now = deps.now;
  // Keys pressed while the number is looked up: the caller is typing their id, and the prompt that may follow gets them.
  let typed: Typed = [];
  if (node.identifyBy !== "dtmf") {
    // A number route has no input: its "input end" is the answer, so inputEndToRouteMs reads answer → routing command.
    const answeredAt = now();
    const off = channel.onDtmf((digit, at) => void typed.push({ digit, at }));
    let byNumber: ByNumber;
    try {
      byNumber = await identifyByNumber(channel, node, deps, report);
    } finally {
      off();
    }
    report.callerLookup = byNumber.found ? "found" : byNumber.why;
    if (byNumber.found) {
      let accepted = !node.confirmCaller;
      let inputEnd = answeredAt;
      if (node.confirmCaller && typed.length > 0) report.callerLookup = "typed_ahead";
      else if (node.confirmCaller) {
        const c = await readDigits(channel, deps.confirmCallerMedia ?? DEFAULT_CONFIRM_CALLER_MEDIA, { expectedLength: 1, timeoutMs: deps.confirmTimeoutMs ?? CONFIRM_TIMEOUT_MS }, now);
        accepted = c.digits === "1";
        inputEnd = c.endedAt;
        if (!accepted) report.callerLookup = "refused";
      }
      if (accepted) {
        mark.inputEnd = inputEnd;
        report.identifiedBy = "caller_number";
        report.customerId = maskId(byNumber.idContact);
        // As if the customer had typed their id: the same decision, from the reply about them.
        return { ...decide(node, node.interaction === "none" ? null : byNumber.result), digits: byNumber.idContact };
      }
    } else if (node.identifyBy === "caller_number") {
      mark.inputEnd = now();
      const why = byNumber.why;
      const timedOut = why === "edge_timeout";
      // Here `why` is never found/refused/typed_ahead (those need a match); every other value is a shared reason.
      const reason = (why === "not_found" || why === "unusable" ? `caller_number_${why}` : why) as Reason;
      return { outcome: timedOut ? "timeout" : "failure", reason, destination: node.failureDestination, digits: null };
    }
  }
  let digits: string | null = null;
  let inputEnd = 0;
  for (let attempt = 1; attempt <= node.attempts; attempt++) {
    report.attempts++;
    const early = typed;
    typed = [];
    // Keys already typed skip the prompt: it would only be cut at once by them (barge-in).
    const r = await readDigits(channel, early.length ? null : mediaUri(node.audio), { expectedLength: node.expectedLength, timeoutMs: node.timeoutSeconds * 1000 }, now, early);
    if (!isValidCustomerId(r.digits, node.expectedLength)) continue;
    inputEnd = r.endedAt;
    if (node.confirm) {
      // Read-back as OMniLeads does it: the digits themselves, then one key.
      const c = await readDigits(channel, readBackMedia(r.digits), { expectedLength: 1, timeoutMs: deps.confirmTimeoutMs ?? CONFIRM_TIMEOUT_MS }, now);
      if (c.digits !== "1") continue;
      inputEnd = c.endedAt;
    }
    digits = r.digits;
    break;
  }
  mark.inputEnd = digits === null ? now() : inputEnd;
  if (digits === null) return { outcome: "invalid", reason: "attempts_exhausted", destination: node.failureDestination, digits: null };
  report.customerId = maskId(digits);
  report.identifiedBy = "dtmf";
  if (node.interaction === "none") return { ...decide(node, null), digits };

  const target = lookupTarget(node, deps);
  const result = target ? await ask(channel, target, digits, inputEnd + deps.edgeTimeoutMs, deps, report, target.kind === "edge" ? "identify" : "crm_url") : null;
  return { ...decide(node, result), digits };
}

/**
 * Runs the customer-id node `nodeId` of `tenant` on one channel, chains through type 9 up to
 * MAX_CHAIN nodes, sets the channel variables and routes (SPEC 6). Never throws: every ending,
 * including the caller hanging up, is a report.
 */
export async function runCall(channel: CallChannel, tenant: string, nodeId: string, deps: CallDeps): Promise<CallReport> {
  const started = deps.now();
  const report: CallReport = {
    callId: channel.id,
    tenant,
    node: nodeId,
    chain: [],
    outcome: "failure",
    reason: null,
    customerId: null,
    attempts: 0,
    destination: null,
    route: "none",
    identifiedBy: null,
    callerLookup: null,
    nodeOrigin: null,
    timings: { totalMs: 0, edgeMs: null, inputEndToRouteMs: null },
    edgeRequestId: null,
  };
  const mark = { inputEnd: null as number | null };
  let current: RunnableNode | null = null;
  let answered = false;
  let lastDigits: string | null = null;
  let routing = false;

  const finish = async (d: Decided, route: Route | { kind: "fallback" }) => {
    report.outcome = d.outcome;
    report.reason = d.reason;
    report.destination = d.destination;
    report.route = route.kind;
    if (d.digits !== null) lastDigits = d.digits;
    routing = true;
    channel.markRouted();
    // Sent together: Asterisk applies each on the channel's own queue, and `continue` is only
    // sent once all of them are acknowledged, so the dialplan always sees every variable.
    await Promise.all(routingVariables(lastDigits, d.outcome, d.destination).map(([name, value]) => channel.setVariable(name, value)));
    if (mark.inputEnd !== null) report.timings.inputEndToRouteMs = Math.round((deps.now() - mark.inputEnd) * 10) / 10;
    if (route.kind === "hangup") await channel.hangup();
    else {
      const target: DialplanTarget = route.kind === "fallback" ? deps.destinations.fallback : route.kind === "dialplan" ? route.target : deps.destinations.fallback;
      await channel.continueInDialplan(target);
    }
  };
  /** The node's failure destination, or the fallback when that would chain again. */
  const failureRoute = (n: RunnableNode | null): Route | { kind: "fallback" } => {
    if (!n) return { kind: "fallback" };
    const r = resolveRoute(deps.destinations, n.failureDestination);
    return r.kind === "node" ? { kind: "fallback" } : r;
  };

  try {
    for (let depth = 1; ; depth++) {
      const found = await deps.nodes.get(tenant, nodeId);
      report.chain.push(nodeId);
      if (!found.node) {
        const stop = stopOf(channel.signal);
        if (stop?.code === "hangup") throw new CallStopped(stop);
        await finish({ outcome: "failure", reason: `no_node:${found.reason}`, destination: null, digits: null }, { kind: "fallback" });
        break;
      }
      current = found.node;
      report.nodeOrigin ??= found.origin;
      const stop = stopOf(channel.signal);
      if (stop) throw new CallStopped(stop);
      if (!answered) {
        await channel.answer();
        answered = true;
      }
      const d = await runOneNode(channel, current, deps, report, mark);
      if (d.digits !== null) lastDigits = d.digits;
      const route = resolveRoute(deps.destinations, d.destination!);
      if (route.kind !== "node") {
        await finish(d, route);
        break;
      }
      if (depth >= MAX_CHAIN) {
        await finish({ outcome: "failure", reason: "chain_limit", destination: current.failureDestination, digits: d.digits }, failureRoute(current));
        break;
      }
      nodeId = route.nodeId;
    }
  } catch (e) {
    const stop = e instanceof CallStopped ? e.stop : stopOf(channel.signal);
    if (stop && stop.code !== "hangup") {
      try {
        await finish({ outcome: "failure", reason: stop.code, destination: current?.failureDestination ?? null, digits: null }, failureRoute(current));
      } catch (err) {
        // The channel left our app before it could be routed (hung up, or a peer agent took it): not routed by us.
        if (err instanceof CallStopped) Object.assign(report, { outcome: "abandoned", reason: "caller_hung_up", route: "none" });
        else report.reason = "shutdown_route_failed";
      }
    } else if (stop?.code === "hangup" || stopOf(channel.signal) || /Channel not found/i.test(e instanceof Error ? e.message : "")) {
      // Trace 02: once the caller is gone every command on the channel is 404 "Channel not found",
      // sometimes before the hang-up event reaches us.
      report.outcome = "abandoned";
      report.reason = "caller_hung_up";
      report.route = "none";
    } else {
      // Asterisk refused a command (trace 02: 404 once the channel is gone) with no hang-up event yet.
      const reason: Reason = `ari_error:${e instanceof Error ? e.message.slice(0, 120) : String(e)}`;
      report.outcome = "failure";
      report.route = "none";
      if (!routing) {
        // Not left in silence: one try at the failure destination.
        await finish({ outcome: "failure", reason, destination: current?.failureDestination ?? null, digits: null }, failureRoute(current)).catch(() => undefined);
      }
      report.reason = reason;
    }
  }
  report.timings.totalMs = Math.round(deps.now() - started);
  return report;
}
