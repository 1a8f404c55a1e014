import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env.js";

/**
 * A tiny CRM that `npm start` points the demo tenant at, so the whole path works offline.
 * Served only when LOCAL_MODE is "true"; every deployed environment answers 404.
 * Customers: ids ending in 0–4 are "gold" and paid up, 5–8 "bronze" and late, 9 unknown.
 */
export function demoCrmRoutes(app: OpenAPIHono<AppEnv>) {
  app.get("/_demo-crm/customers/:id", (c) => {
    if (c.env.LOCAL_MODE !== "true") return c.json({ error: { code: "not_found", message: "no such path" } }, 404);
    const id = c.req.param("id");
    const last = Number(id.at(-1));
    if (!/^[0-9]{1,30}$/.test(id) || last === 9) return c.json({ error: "no such customer" }, 404);
    return c.json({ customer: { id, name: `Customer ${id.slice(-2)}`, plan: last <= 4 ? "gold" : "bronze", paymentsUpToDate: last <= 4 } });
  });
}
