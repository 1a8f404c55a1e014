import { createRoute, type OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { H } from "hono/types";
import { z } from "zod";
import type { AppEnv } from "../env.js";

export const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

const json = (schema: z.ZodType, description: string) => ({ content: { "application/json": { schema } }, description });
export const jsonBody = (schema: z.ZodType, description = "JSON body") => ({ body: { content: { "application/json": { schema } }, required: true, description } });
export const ok = (schema: z.ZodType, description = "OK") => json(schema, description);

const errors = {
  400: json(errorBody, "Invalid input"),
  401: json(errorBody, "Missing or wrong key"),
  403: json(errorBody, "Key lacks the role"),
  404: json(errorBody, "Unknown tenant or object (also another tenant's)"),
};

/**
 * Mounts a handler and documents it from the same route object, so /openapi.json is generated
 * from the zod schemas that the handlers parse with. Validation stays in the handlers (one
 * parse, one error format) rather than in zod-openapi's hook.
 */
export function documented(
  app: OpenAPIHono<AppEnv>,
  config: Omit<RouteConfig, "responses"> & { responses: RouteConfig["responses"] },
  ...handlers: H<AppEnv>[]
) {
  const route = createRoute({ ...config, responses: { ...errors, ...config.responses } });
  app.openAPIRegistry.registerPath(route);
  const honoPath = config.path.replace(/\{(\w+)\}/g, ":$1");
  app.on([config.method.toUpperCase()], honoPath, ...(handlers as [H<AppEnv>]));
}

export const tenantParam = z.object({ tenant: z.string() });
export const security = [{ bearer: [] }];
