import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../env.js";

/** An error with a stable code that logs, headers and the UI share (STYLE). */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, "not_found", `${what} not found`);

export function errorResponse(c: Context<AppEnv>, status: ContentfulStatusCode, code: string, message: string) {
  return c.json({ error: { code, message } }, status);
}

/** Every failure leaves as JSON; nothing internal (stack, secret, SQL) ever reaches the body. */
export function onError(err: Error, c: Context<AppEnv>) {
  if (err instanceof ApiError) return errorResponse(c, err.status, err.code, err.message);
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    if (status === 413) return errorResponse(c, 413, "body_too_large", "request body is too large");
    if (/Content-Type/i.test(err.message)) return errorResponse(c, 415, "unsupported_media_type", "send application/json");
    if (status === 400) return errorResponse(c, 400, "bad_request", "malformed request body");
    return errorResponse(c, status, "http_error", "request refused");
  }
  console.error(JSON.stringify({ level: "error", requestId: c.get("requestId"), msg: "unhandled", error: err.name }));
  return errorResponse(c, 500, "internal", "internal error");
}
