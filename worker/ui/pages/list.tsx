import type { Child } from "hono/jsx";
import { tenantOf, type UiContext } from "../context.js";
import { Banner, Layout, Table, type Nav } from "../layout.js";

/**
 * A list of the tenant's nodes or connectors: what was just saved or deleted (from the redirect
 * that brought the user here), a link to add one, and the table or a line saying there are none.
 */
export function ListPage(p: { c: UiContext; current: Extract<Nav, "nodes" | "connectors">; title: string; add: string; empty: string; head: string[]; rows: Child[] }) {
  const { c } = p;
  const t = c.get("t");
  const deleted = c.req.query("deleted");
  const saved = c.req.query("saved");
  return (
    <Layout t={t} lang={c.get("lang")} title={p.title} current={p.current} path={`/ui/${p.current}`} tenant={tenantOf(c)} csrf={c.get("session").csrf}>
      {deleted ? <Banner kind="ok">{`${t.common.deleted} ${deleted}`}</Banner> : null}
      {saved ? <Banner kind="ok">{`${t.common.saved} ${saved}`}</Banner> : null}
      <p>
        <a class="button" href={`/ui/${p.current}/new`}>
          {p.add}
        </a>
      </p>
      {p.rows.length ? <Table head={p.head}>{p.rows}</Table> : <p>{p.empty}</p>}
    </Layout>
  );
}
