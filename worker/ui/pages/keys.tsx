import { role } from "../../../shared/tenant.js";
import { DomainError } from "../../services/errors.js";
import { issueKey, listKeys, revokeKey } from "../../services/keys.js";
import { readForm, tenantOf, type UiApp, type UiContext } from "../context.js";
import { SelectField } from "../fields.js";
import { Banner, CsrfField, Layout, Table } from "../layout.js";

async function KeysPage(p: { c: UiContext; created?: { id: string; key: string; role: string } }) {
  const { c } = p;
  const t = c.get("t");
  const k = t.keys;
  const csrf = c.get("session").csrf;
  const mine = c.get("session").key.id;
  const keys = await listKeys(c.get("svc"), tenantOf(c));
  const when = (s: string | null) => (s ? s.replace("T", " ").slice(0, 19) : k.never);
  return (
    <Layout t={t} lang={c.get("lang")} title={k.title} current="keys" path="/ui/keys" tenant={tenantOf(c)} csrf={csrf}>
      {p.created ? (
        <Banner kind="ok">
          <p style="margin:0 0 .4rem">{`${k.shownOnce} (${p.created.role}, ${p.created.id})`}</p>
          <code class="key" id="new-key">
            {p.created.key}
          </code>
        </Banner>
      ) : null}
      <form method="post" action="/ui/keys" class="card inline">
        <CsrfField token={csrf} />
        <SelectField name="role" label={k.role} value="agent" errors={{}} options={role.options.map((r) => ({ value: r, label: r }))} />
        <button type="submit">{k.create}</button>
      </form>
      <Table head={[k.id, k.role, k.created, k.lastUsed, t.common.actions]}>
        {keys.map((key) => (
          <tr>
            <td class="mono">
              {key.id} {key.id === mine ? k.yours : ""}
            </td>
            <td>{key.role}</td>
            <td>{when(key.createdAt)}</td>
            <td>{when(key.lastUsedAt)}</td>
            <td>
              {key.revokedAt ? (
                `${k.revoked} ${when(key.revokedAt)}`
              ) : (
                <form method="post" action={`/ui/keys/${key.id}/revoke`}>
                  <CsrfField token={csrf} />
                  <button type="submit" class="danger" aria-label={`${k.revoke} ${key.id}`}>
                    {k.revoke}
                  </button>
                </form>
              )}
            </td>
          </tr>
        ))}
      </Table>
    </Layout>
  );
}

export function keyPages(ui: UiApp) {
  ui.get("/keys", async (c) => c.html(await KeysPage({ c })));
  // The new key is rendered in this very answer (no redirect), so it never sits in a URL or history entry.
  ui.post("/keys", async (c) => {
    const created = await issueKey(c.get("svc"), tenantOf(c), { role: (await readForm(c)).role }).catch((e: unknown) => {
      if (e instanceof DomainError && e.code === "validation_failed") return null;
      throw e;
    });
    return created ? c.html(await KeysPage({ c, created }), 201) : c.html(await KeysPage({ c }), 400);
  });
  ui.post("/keys/:id/revoke", async (c) => {
    const id = c.req.param("id");
    await revokeKey(c.get("svc"), tenantOf(c), id);
    return c.redirect(id === c.get("session").key.id ? "/ui/login" : "/ui/keys", 303);
  });
}
