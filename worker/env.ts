import type { CircuitBreaker } from "./circuit/breaker.js";
import type { Principal } from "./http/auth.js";

/** Bindings from wrangler.toml plus secrets (`.dev.vars` locally, `wrangler secret put` when deployed). */
export interface Env {
  DB: D1Database;
  CACHE: KVNamespace;
  /** Circuit breakers, one per tenant + connector (optional so a bare test runtime still works). */
  CIRCUIT?: DurableObjectNamespace<CircuitBreaker>;
  /** Identify calls per tenant. */
  IDENTIFY_LIMIT?: RateLimit;
  /** Failed authentications per (client address, key id); only failures are counted. */
  AUTH_FAIL_LIMIT?: RateLimit;
  /** Operator token (secret). */
  ADMIN_TOKEN?: string;
  /** 32 random bytes, base64: encrypts CRM credentials at rest (secret). */
  ENCRYPTION_KEY?: string;
  /** The key ENCRYPTION_KEY replaces, during a rotation only: still opens secrets until `POST /v1/admin/reseal` has run (secret). */
  ENCRYPTION_KEY_PREVIOUS?: string;
  /** "true" only for local development and tests: lets connectors reach http:// and private addresses. */
  ALLOW_PRIVATE_CRM_URLS?: string;
  /** "true" under `npm start`: serves the offline demo CRM. */
  LOCAL_MODE?: string;
}

export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    principal: Principal;
  };
};
