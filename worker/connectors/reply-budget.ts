import type { ByteLease } from "../../shared/read-capped.js";

/**
 * What one CRM reply may weigh, by what it carries. A record lookup asks for one customer (a
 * search page of a few matches with the fields the rules read): 256 KiB is far above any real
 * one. A contract reply is SPEC 2's 64 KiB; an OAuth token reply is a few hundred bytes.
 */
export const REPLY_CAP = { record: 256 * 1024, contract: 64 * 1024, token: 16 * 1024 } as const;

/**
 * Reply bytes held by all CRM reads in flight in this isolate, whatever tenant or connector.
 * A deployed isolate has 128 MB; a reply costs its bytes, then its text and its parsed JSON on
 * top, so 8 MiB in flight keeps a burst of large replies well inside it. A read that would
 * pass the budget is cut and answered `edge_busy` instead of growing the isolate until it is
 * killed mid-call with every other call in it.
 */
export const ISOLATE_REPLY_BUDGET = 8 * 1024 * 1024;

let inFlight = 0;

/** For tests and the bench: the bytes currently leased. Zero whenever no CRM read is running. */
export const replyBytesInFlight = () => inFlight;

/** A share of the budget for one read; `release` (in a finally) gives back all it took. */
export function leaseReplyBytes(): ByteLease & { release(): void } {
  let held = 0;
  return {
    take(bytes) {
      if (inFlight + bytes > ISOLATE_REPLY_BUDGET) return false;
      inFlight += bytes;
      held += bytes;
      return true;
    },
    release() {
      inFlight -= held;
      held = 0;
    },
  };
}
