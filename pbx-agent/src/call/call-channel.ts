import type { DialplanTarget } from "../../../shared/destinations-file.js";

/**
 * Why a call's signal was aborted: the caller hung up, or the agent must hand the call
 * to its failure destination now (shutting down; or a channel found already in the app
 * after a reconnect, which Asterisk never announces again, trace 03).
 */
export type CallStop = { code: "hangup" } | { code: "shutdown" } | { code: "orphaned" };

export class CallStopped extends Error {
  constructor(readonly stop: CallStop) {
    super(`call stopped: ${stop.code}`);
  }
}

/** Set by the dialplan before Stasis() when the trunk carries the caller's number somewhere CALLERID(num) does not show. */
export const CALLER_NUMBER_VARIABLE = "CRM_BRIDGE_CALLER_NUMBER";

export type Playback = {
  /** Settles when Asterisk reports the playback finished (done, stopped or failed) or the call ends. */
  readonly ended: Promise<void>;
  /** Barge-in: ask Asterisk to stop it. Safe to call after it ended. */
  stop(): void;
};

/**
 * What the call flow needs from one channel in the Stasis app. The ARI adapter implements it;
 * tests may implement it in memory. Commands reject when Asterisk refuses them.
 */
export interface CallChannel {
  readonly id: string;
  /** Aborted (reason: a CallStop) when the caller hangs up or the agent shuts down. */
  readonly signal: AbortSignal;
  answer(): Promise<void>;
  /**
   * The calling number as the PBX has it (raw, maybe empty or "anonymous"): the channel variable
   * CALLER_NUMBER_VARIABLE when the dialplan set it (trunks that carry the number elsewhere),
   * else StasisStart's `channel.caller.number`. Never rejects.
   */
  callerNumber(): Promise<string>;
  play(media: string): Playback;
  /** Subscribes to the caller's key presses; returns the unsubscribe. `at` is on the agent's monotonic clock. */
  onDtmf(listener: (digit: string, at: number) => void): () => void;
  setVariable(name: string, value: string): Promise<void>;
  continueInDialplan(target: DialplanTarget): Promise<void>;
  hangup(): Promise<void>;
  /** Called right before the routing command: end-of-Stasis events after it are not a hang-up. */
  markRouted(): void;
}

export function stopOf(signal: AbortSignal): CallStop | null {
  if (!signal.aborted) return null;
  const r: unknown = signal.reason;
  return r && typeof r === "object" && "code" in r && (r.code === "hangup" || r.code === "shutdown" || r.code === "orphaned") ? (r as CallStop) : { code: "hangup" };
}
