import type { Context, Hono } from "hono";
import type { AppEnv } from "../env.js";
import { readFormFields } from "../http/read-body.js";
import type { ServiceContext } from "../services/context.js";
import type { Dict, Lang } from "./i18n.js";
import type { Session } from "./session.js";

/** `svc`: the signed-in key's context for the services, which the pages call like the API does. */
export type UiVariables = AppEnv["Variables"] & { lang: Lang; t: Dict; session: Session; form: Record<string, string>; svc: ServiceContext };
export type UiEnv = { Bindings: AppEnv["Bindings"]; Variables: UiVariables };
export type UiApp = Hono<UiEnv>;
export type UiContext = Context<UiEnv>;

/** The biggest form a page posts is a connector's JSON box; nothing needs more. */
export const FORM_LIMIT = 256 * 1024;

/** Only the string fields of a posted form (file uploads have no place in these pages), read under FORM_LIMIT. */
export async function readForm(c: UiContext): Promise<Record<string, string>> {
  const cached = c.get("form");
  if (cached) return cached;
  const form = (await readFormFields(c.req.raw, FORM_LIMIT)) ?? {};
  c.set("form", form);
  return form;
}

/** Where a session-aware page belongs: tenant of the signed-in key, never anything from the URL. */
export const tenantOf = (c: UiContext) => c.get("session").key.tenant;
