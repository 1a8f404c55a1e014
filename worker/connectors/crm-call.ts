import { crmFetch } from "./http.js";
import { REPLY_CAP } from "./reply-budget.js";
import type { LookupContext } from "./types.js";

/** A configured base URL and a documented path, without a doubled or missing slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}${path}`;
}

/** One CRM API call (GET unless told): SSRF rules, size cap and deadline from crmFetch, JSON accepted. */
export function crmRequest(url: string, headers: Record<string, string>, ctx: LookupContext, init: { method?: string; body?: string } = {}) {
  return crmFetch(url, { method: init.method ?? "GET", headers: { Accept: "application/json", ...headers }, body: init.body }, { ...ctx.http, maxBytes: REPLY_CAP.record });
}
