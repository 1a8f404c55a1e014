import { DurableObject } from "cloudflare:workers";
import { admit, closed, record, type CircuitState, type Verdict } from "./policy.js";

/**
 * One circuit per tenant + connector, shared by every isolate: the state has to be in one place
 * for "the CRM keeps failing" to be seen across a fleet, and a Durable Object is the Workers
 * primitive for one place. Kept in memory: an evicted object starts closed, which is safe.
 */
export class CircuitBreaker extends DurableObject {
  private state: CircuitState = closed(Date.now());

  admit(): Verdict {
    const [next, verdict] = admit(this.state, Date.now());
    this.state = next;
    return verdict;
  }

  record(r: { ok: number; failed: number; probe?: boolean }): { openUntil: number } {
    this.state = record(this.state, r, Date.now());
    return { openUntil: this.state.openUntil };
  }
}
