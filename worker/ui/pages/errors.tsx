import type { UiContext } from "../context.js";
import { Layout } from "../layout.js";

/** An HTML 404 inside the pages (the API's JSON 404 would strand a browser user). Another tenant's object lands here too. */
export function notFoundPage(c: UiContext) {
  const t = c.get("t");
  const session = c.get("session");
  return c.html(
    <Layout t={t} lang={c.get("lang")} title={t.common.notFound} current="nodes" path="/ui/nodes" tenant={session?.key.tenant} csrf={session?.csrf}>
      <p>
        <a href="/ui/nodes">{t.nav.nodes}</a>
      </p>
    </Layout>,
    404,
  );
}

export function csrfRefused(c: UiContext) {
  const t = c.get("t");
  return c.html(
    <Layout t={t} lang={c.get("lang")} title={t.common.csrf} current="nodes" path="/ui/nodes">
      <p>
        <a href="/ui/nodes">{t.nav.nodes}</a>
      </p>
    </Layout>,
    403,
  );
}
