import { z } from "zod";
import { commonConnectorFields, destination, fieldRoles, httpAuth, idPathField } from "../../shared/connector.js";
import { ruleSet } from "../../shared/rules.js";
import { CrmError, crmStatusError } from "./errors.js";
import { authHeaders, crmFetch, crmJson } from "./http.js";
import { readPath } from "./record.js";
import { REPLY_CAP } from "./reply-budget.js";
import { defineConnector } from "./types.js";


/**
 * Any JSON API: GET/POST a URL holding {idContact} and/or {callerNumber}, read the record at
 * `recordPath` (SPEC 4). One URL may hold both, so one connector serves the number lookup and
 * the typed-id fallback: the placeholder not being looked up is filled with "".
 */
/** Headers a rest connector may add to its calls. */
export const MAX_HEADERS = 20;

export const rest = defineConnector({
  kind: "rest",
  schema: z
    .object({
      kind: z.literal("rest"),
      method: z.enum(["GET", "POST"]).default("GET"),
      url: destination(
        z
          .string()
          .max(2000)
          .refine((u) => u.includes("{idContact}") || u.includes("{callerNumber}"), "must contain {idContact} or {callerNumber}")
          .refine((u) => /^https?:\/\/[^/?#]+/.test(u), "an absolute http(s) URL"),
        // Path and query too: on a shared host the path names the owner, so the headers are bound to all of it.
        "url",
      ),
      // Header values often carry an API key: every one is sealed and bound to the url like a secret.
      // At most MAX_HEADERS: each is a value an echoing reply is searched for (scrub.ts), so their number bounds that cost.
      headers: z
        .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, "an HTTP header name"), z.string().max(4096).register(fieldRoles, { role: "secret" }))
        .refine((h) => Object.keys(h).length <= MAX_HEADERS, `at most ${MAX_HEADERS} headers`)
        .optional(),
      auth: httpAuth.optional(),
      /** Dot path to the record in the reply; empty = the whole reply. */
      recordPath: z.string().max(200).default(""),
      /** Where the record holds the customer id; no default: without it a number match carries no id. */
      ...idPathField,
      ...commonConnectorFields,
      ...ruleSet,
    })
    .strict(),
  async lookup(config, ctx) {
    // A URL made for ids only is never called with an empty id for a number lookup.
    if (ctx.callerNumber && !config.url.includes("{callerNumber}")) throw new CrmError("phone_lookup_unsupported", "this connector's url has no {callerNumber}");
    const url = config.url
      .replaceAll("{idContact}", encodeURIComponent(ctx.customerId))
      .replaceAll("{callerNumber}", encodeURIComponent(ctx.callerNumber?.e164 ?? ""));
    const res = await crmFetch(
      url,
      { method: config.method, headers: { Accept: "application/json", ...config.headers, ...authHeaders(config.auth) } },
      { ...ctx.http, maxBytes: REPLY_CAP.record },
    );
    if (res.status === 404) return { kind: "notFound" };
    if (res.status < 200 || res.status >= 300) throw crmStatusError(res.status, res.headers, res.text);
    const body = crmJson(res);
    const found = config.recordPath === "" ? body : readPath(body, config.recordPath);
    if (found === undefined || found === null) return { kind: "notFound" };
    if (Array.isArray(found)) {
      return found.length === 0 ? { kind: "notFound" } : { kind: "record", record: found[0], matches: found.length };
    }
    return { kind: "record", record: found, matches: 1 };
  },
});
