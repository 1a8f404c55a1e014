import type { Reason } from "../../shared/reasons.js";
import { pauseFromHeaders, retryAfterMs } from "../quota/headers.js";

/**
 * Why a CRM lookup failed. The code is the `X-Bridge-Reason` header, the decision log's
 * reason and the metric label alike (SPEC 3).
 */
export class CrmError extends Error {
  constructor(
    readonly code: Reason,
    message: string,
    /** Seconds a CRM asked us to wait: its Retry-After, else the reset of the rate-limit headers at zero. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const crmHttpError = (status: number) => new CrmError(`crm_http_${status}`, `CRM answered HTTP ${status}`);

/**
 * A CRM's non-2xx answer as a reason: the auth and rate-limit answers have their own codes
 * (what an operator acts on), everything else keeps `crm_http_<status>`.
 */
export function crmStatusError(status: number, headers?: Headers, body = ""): CrmError {
  if (isThrottled(status, body)) return new CrmError("crm_rate_limited", "CRM rate limit reached", throttleSeconds(headers));
  if (status === 401 || status === 403) return new CrmError("crm_auth", `CRM refused the credentials (HTTP ${status})`);
  return crmHttpError(status);
}

/**
 * A CRM saying "too many requests", whatever its dialect: HTTP 429 everywhere (HubSpot,
 * Pipedrive, Zendesk, Freshdesk, Zoho's TOO_MANY_REQUESTS, Dataverse's service protection
 * limits), Salesforce's REQUEST_LIMIT_EXCEEDED (HTTP 403, daily or concurrent API limit) and
 * Zoho's credit exhaustion (LIMIT_EXCEEDED / TOO_MANY_REQUESTS in the body of a 4xx).
 * Only the first KiB of the body is looked at: the error code is always near its start.
 */
export function isThrottled(status: number, body: string): boolean {
  if (status === 429) return true;
  if (status !== 403 && status !== 400) return false;
  return /"(?:errorCode|code)"\s*:\s*"(?:REQUEST_LIMIT_EXCEEDED|TOO_MANY_REQUESTS|LIMIT_EXCEEDED)"/.test(body.slice(0, 1024));
}

/**
 * How long a throttling reply asks us to stay away. HubSpot and Pipedrive send no Retry-After
 * on their 429s, only their rate-limit headers at zero with the window's reset: without this
 * the guard's 5 s default would outlast a 1 s or 2 s window. Neither (Salesforce's 403, Zoho):
 * undefined, and the caller pauses for its default.
 */
function throttleSeconds(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = retryAfterMs(headers) ?? pauseFromHeaders(headers);
  return ms === undefined ? undefined : Math.ceil(ms / 1000);
}
