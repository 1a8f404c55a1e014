import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../env.js";
import { log } from "../observability/log.js";
import { DomainError, QuotaRefused, type DomainCode } from "../services/errors.js";

/** The one place a domain error becomes an HTTP status. */
export const STATUS: Record<DomainCode, ContentfulStatusCode> = {
  unauthorized: 401,
  forbidden: 403,
  admin_key_in_url: 403,
  too_many_failed_auth: 429,
  rate_limited: 429,
  crm_quota: 429,
  validation_failed: 400,
  invalid_tenant_id: 400,
  invalid_connector_id: 400,
  invalid_node_id: 400,
  invalid_id: 400,
  missing_id_contact: 400,
  caller_number_unusable: 400,
  bad_json: 400,
  bad_body: 400,
  body_too_large: 413,
  unsupported_media_type: 415,
  secret_required: 400,
  not_found: 404,
  connector_in_use: 409,
  encryption_key_missing: 503,
};

export const statusOf = (err: DomainError): ContentfulStatusCode => STATUS[err.code];

export function errorResponse(c: Context<AppEnv>, status: ContentfulStatusCode, code: string, message: string) {
  return c.json({ error: { code, message } }, status);
}

/** Every failure leaves as JSON; nothing internal (stack, secret, SQL) ever reaches the body. */
export function onError(err: Error, c: Context<AppEnv>) {
  if (err instanceof QuotaRefused) c.header("Retry-After", String(err.retryAfterSeconds));
  if (err instanceof DomainError) return errorResponse(c, statusOf(err), err.code, err.message);
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    if (status === 413) return errorResponse(c, 413, "body_too_large", "request body is too large");
    if (/Content-Type/i.test(err.message)) return errorResponse(c, 415, "unsupported_media_type", "send application/json");
    if (status === 400) return errorResponse(c, 400, "bad_request", "malformed request body");
    return errorResponse(c, status, "http_error", "request refused");
  }
  log({ event: "error", msg: "unhandled", requestId: c.get("requestId"), where: "api", error: err.name });
  return errorResponse(c, 500, "internal", "internal error");
}
