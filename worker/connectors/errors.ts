/**
 * Why a CRM lookup failed. The code is the `X-Bridge-Reason` header, the decision log's
 * reason and the metric label alike (SPEC 3).
 */
export class CrmError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Seconds a CRM asked us to wait (429 Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const crmHttpError = (status: number) => new CrmError(`crm_http_${status}`, `CRM answered HTTP ${status}`);
