/**
 * How long a CRM's reply asks us to stay away, read from the rate-limit headers each CRM
 * documents (docs/connectors.md, "Quotas"). A reply that says "none left" pauses the connector
 * until the window resets, before the CRM has to answer 429 at all.
 *   - Retry-After (every CRM on 429; seconds or an HTTP date)
 *   - X-HubSpot-RateLimit-Secondly-Remaining (1 s), X-HubSpot-RateLimit-Remaining with
 *     X-HubSpot-RateLimit-Interval-Milliseconds
 *   - X-RateLimit-Remaining / X-RateLimit-Reset (Freshdesk, Zoho, Pipedrive; the reset as
 *     seconds from now, or an epoch in s or ms)
 *   - X-Rate-Limit-Remaining, ratelimit-remaining / ratelimit-reset (Zendesk)
 *   - Sforce-Limit-Info: api-usage=<used>/<max> (Salesforce's rolling 24 h allowance)
 *   - x-ms-ratelimit-burst-remaining-xrm-requests (Dataverse's 5-minute request count)
 */
const DEFAULT_PAUSE_MS = 1000;

function num(h: Headers, name: string): number | undefined {
  const v = h.get(name);
  if (v === null || !/^\s*\d{1,15}(\.\d+)?\s*$/.test(v)) return undefined;
  return Number(v);
}

/** A reset header as ms from now: small numbers are seconds to wait, large ones an epoch. */
function resetMs(value: number | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (value > 1e12) return Math.max(0, value - now);
  if (value > 1e9) return Math.max(0, value * 1000 - now);
  return value * 1000;
}

export function retryAfterMs(h: Headers, now = Date.now()): number | undefined {
  const v = h.get("retry-after");
  if (v === null) return undefined;
  const t = v.trim();
  if (/^\d{1,9}(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const at = Date.parse(t);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** ms to pause the connector for, or undefined when the reply leaves quota. */
export function pauseFromHeaders(h: Headers, now = Date.now()): number | undefined {
  if (num(h, "x-hubspot-ratelimit-secondly-remaining") === 0) return 1000;
  if (num(h, "x-hubspot-ratelimit-remaining") === 0) return num(h, "x-hubspot-ratelimit-interval-milliseconds") ?? 10_000;
  for (const [remaining, reset] of [
    ["x-ratelimit-remaining", "x-ratelimit-reset"],
    ["x-rate-limit-remaining", "ratelimit-reset"],
    ["ratelimit-remaining", "ratelimit-reset"],
  ] as const) {
    if (num(h, remaining) === 0) return retryAfterMs(h, now) ?? resetMs(num(h, reset), now) ?? DEFAULT_PAUSE_MS;
  }
  const sforce = /api-usage=(\d+)\/(\d+)/.exec(h.get("sforce-limit-info") ?? "");
  // A rolling 24 h allowance frees up slowly: look again in a minute.
  if (sforce && Number(sforce[1]) >= Number(sforce[2])) return 60_000;
  if (num(h, "x-ms-ratelimit-burst-remaining-xrm-requests") === 0) return retryAfterMs(h, now) ?? 5_000;
  return undefined;
}
