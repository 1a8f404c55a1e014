import { role } from "../../../shared/tenant.js";
import { DomainError } from "../../services/errors.js";
import { issueKey, listKeys, revokeKey } from "../../services/keys.js";
import { setTenantDefaultCountry, setTenantTimeZone, tenantSettings } from "../../services/tenants.js";
import { readForm, tenantOf, type UiApp, type UiContext } from "../context.js";
import { FormErrors, SelectField, TextField, type FieldErrors } from "../fields.js";
import { fieldErrors } from "../issues.js";
import { Banner, CsrfField, Layout, Table } from "../layout.js";
import { Time } from "../time.js";

type KeysPageProps = { c: UiContext; created?: { id: string; key: string; role: string }; errors?: FieldErrors; typed?: { timeZone?: string; defaultCountry?: string }; saved?: string };

async function KeysPage(p: KeysPageProps) {
  const { c } = p;
  const t = c.get("t");
  const k = t.keys;
  const csrf = c.get("session").csrf;
  const mine = c.get("session").key.id;
  const [keys, settings] = await Promise.all([listKeys(c.get("svc"), tenantOf(c)), tenantSettings(c.get("svc"), tenantOf(c))]);
  const zone = settings.timeZone;
  const errors = p.errors ?? {};
  const when = (s: string | null) => (s ? <Time at={s} timeZone={zone} /> : k.never);
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
      {p.saved === "time-zone" ? <Banner kind="ok">{k.timeZoneSaved}</Banner> : null}
      {p.saved === "default-country" ? <Banner kind="ok">{k.defaultCountrySaved}</Banner> : null}
      <FormErrors errors={errors} title={t.common.fixErrors} labels={{ role: k.role, timeZone: k.timeZone, defaultCountry: k.defaultCountry }} />
      <form method="post" action="/ui/keys" class="card inline">
        <CsrfField token={csrf} />
        <SelectField name="role" label={k.role} value="agent" errors={errors} options={role.options.map((r) => ({ value: r, label: r }))} />
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
                <>
                  {k.revoked} {when(key.revokedAt)}
                </>
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
      <form method="post" action="/ui/keys/time-zone" class="card inline" style="margin-top:1rem">
        <CsrfField token={csrf} />
        <TextField name="timeZone" label={k.timeZone} hint={k.timeZoneHint} value={p.typed?.timeZone ?? zone} errors={errors} />
        <button type="submit">{k.timeZoneSave}</button>
      </form>
      <form method="post" action="/ui/keys/default-country" class="card inline" style="margin-top:1rem">
        <CsrfField token={csrf} />
        <TextField name="defaultCountry" label={k.defaultCountry} hint={k.defaultCountryHint} value={p.typed?.defaultCountry ?? settings.defaultCountry ?? ""} errors={errors} />
        <button type="submit">{k.defaultCountrySave}</button>
      </form>
    </Layout>
  );
}

export function keyPages(ui: UiApp) {
  ui.get("/keys", async (c) => c.html(await KeysPage({ c, saved: c.req.query("saved") })));
  // The new key is rendered in this very answer (no redirect), so it never sits in a URL or history entry.
  ui.post("/keys", async (c) => {
    const created = await issueKey(c.get("svc"), tenantOf(c), { role: (await readForm(c)).role }).catch((e: unknown) => {
      if (e instanceof DomainError && e.code === "validation_failed") return null;
      throw e;
    });
    return created ? c.html(await KeysPage({ c, created }), 201) : c.html(await KeysPage({ c, errors: { role: c.get("t").keys.roleError } }), 400);
  });
  // The tenant's settings on this page, one form each: a refused value comes back as typed, with its error.
  const settings = {
    timeZone: { path: "time-zone", save: setTenantTimeZone, normalize: (typed: string) => typed },
    // Typed in lower case is still the country meant; the API itself takes capitals only.
    defaultCountry: { path: "default-country", save: setTenantDefaultCountry, normalize: (typed: string) => typed.toUpperCase() },
  };
  for (const [field, setting] of Object.entries(settings)) {
    ui.post(`/keys/${setting.path}`, async (c) => {
      const typed = ((await readForm(c))[field] ?? "").trim();
      try {
        await setting.save(c.get("svc"), tenantOf(c), setting.normalize(typed));
      } catch (e) {
        if (!(e instanceof DomainError) || e.code !== "validation_failed") throw e;
        const errors = { [field]: Object.values(fieldErrors(e.issues, c.get("lang"))).join(" ") };
        return c.html(await KeysPage({ c, errors, typed: { [field]: typed } }), 400);
      }
      return c.redirect(`/ui/keys?saved=${setting.path}`, 303);
    });
  }
  ui.post("/keys/:id/revoke", async (c) => {
    const id = c.req.param("id");
    await revokeKey(c.get("svc"), tenantOf(c), id);
    return c.redirect(id === c.get("session").key.id ? "/ui/login" : "/ui/keys", 303);
  });
}
