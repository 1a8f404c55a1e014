import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../env.js";
import { documented, ok } from "../http/documented.js";

export function healthRoutes(app: OpenAPIHono<AppEnv>) {
  documented(app, { method: "get", path: "/health", summary: "Liveness", responses: { 200: ok(z.object({ ok: z.literal(true) })) } }, (c) =>
    c.json({ ok: true as const }),
  );
}
