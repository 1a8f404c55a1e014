import { slug } from "../../../shared/ids.js";
import { connectorNames } from "../../../shared/node.js";
import { connectorModules, type ConnectorConfig } from "../../connectors/registry.js";
import { checkConnector, connectorUsage, connectorUsers, deleteConnector, findConnector, listConnectors, putConnector } from "../../services/connectors.js";
import { DomainError, SecretRequired } from "../../services/errors.js";
import { listNodes } from "../../services/nodes.js";
import { SECRET_PREFIX, configToForm, connectorIssues, formToInput, maskedEcho, secretPaths, type ConnectorForm } from "../connector-form.js";
import { connectorTemplate as template } from "../connector-template.js";
import { readForm, tenantOf, type UiApp, type UiContext } from "../context.js";
import { FormErrors, SelectField, TextAreaField, TextField, controlId, type FieldErrors } from "../fields.js";
import { zodErrorMap } from "../i18n.js";
import { Banner, CsrfField, Layout } from "../layout.js";
import { TryResultView, tryId, type TryResult } from "./connector-try.js";
import { QuotaUsageView } from "./connector-usage.js";
import type { ConnectorUsage } from "../../../shared/quota.js";
import { notFoundPage } from "./errors.js";
import { ConnectBlock } from "../../oauth-connect/routes.js";
import { ListPage } from "./list.js";

type PageProps = {
  c: UiContext;
  form: ConnectorForm;
  errors: FieldErrors;
  editing: string | null;
  stored: ConnectorConfig | null;
  usedBy: string[];
  banner?: { kind: "ok" | "err"; text: string } | undefined;
  tried?: { id: string; result: TryResult } | undefined;
  /** Secrets typed into a form that failed: masked in the echo, so they get a field to be typed again. */
  typedSecrets?: string[] | undefined;
  usage?: ConnectorUsage | null | undefined;
};

function ConnectorPage(p: PageProps) {
  const { c, form, errors } = p;
  const t = c.get("t");
  const k = t.connector;
  const csrf = c.get("session").csrf;
  const v = (name: string) => form[name] ?? "";
  const storedSecrets = secretPaths(p.stored);
  const secrets = [...new Set([...storedSecrets, ...(p.typedSecrets ?? [])])];
  const kinds = connectorModules.map((m) => ({ value: m.kind, label: m.kind }));
  const templates = p.editing ? undefined : JSON.stringify(Object.fromEntries(connectorModules.map((m) => [m.kind, template(m.kind)])));
  const tryId = controlId("idContact");
  return (
    <Layout
      t={t}
      lang={c.get("lang")}
      title={p.editing ? `${k.editTitle}: ${p.editing}` : k.newTitle}
      current="connectors"
      path={p.editing ? `/ui/connectors/${p.editing}` : "/ui/connectors/new"}
      tenant={tenantOf(c)}
      csrf={csrf}
    >
      {p.banner ? <Banner kind={p.banner.kind}>{p.banner.text}</Banner> : null}
      <FormErrors
        errors={errors}
        title={t.common.fixErrors}
        labels={{
          id: t.common.id,
          kind: k.kind,
          timeoutMs: k.timeoutMs,
          "cache.ttlSeconds": k.ttl,
          "cache.negativeTtlSeconds": k.negativeTtl,
          "cache.staleIfErrorSeconds": k.stale,
          config: k.config,
          ...Object.fromEntries(secrets.map((s) => [SECRET_PREFIX + s, `${k.secretNew} ${s}`])),
        }}
      />
      {p.editing && p.usedBy.length ? <p>{`${k.usedBy}: ${p.usedBy.join(", ")}`}</p> : null}
      <form method="post" action={p.editing ? `/ui/connectors/${p.editing}` : "/ui/connectors/new"} class="card" novalidate>
        <CsrfField token={csrf} />
        <div class="row">
          <TextField name="id" label={t.common.id} value={v("id")} errors={errors} readonly={!!p.editing} required />
          <SelectField name="kind" label={k.kind} value={v("kind")} errors={errors} options={kinds} />
        </div>
        <div class="row">
          <TextField name="timeoutMs" type="number" min={50} max={10000} label={k.timeoutMs} value={v("timeoutMs")} errors={errors} />
          <TextField name="cache.ttlSeconds" type="number" min={0} label={k.ttl} value={v("cache.ttlSeconds")} errors={errors} />
          <TextField name="cache.negativeTtlSeconds" type="number" min={0} label={k.negativeTtl} value={v("cache.negativeTtlSeconds")} errors={errors} />
          <TextField name="cache.staleIfErrorSeconds" type="number" min={0} label={k.stale} value={v("cache.staleIfErrorSeconds")} errors={errors} />
        </div>
        <TextAreaFieldWithTemplates value={v("config")} errors={errors} label={k.config} hint={k.configHint} templates={templates} />
        {secrets.length ? (
          <fieldset>
            <legend>{k.secrets}</legend>
            {secrets.map((s) => (
              <TextField
                name={SECRET_PREFIX + s}
                type="password"
                label={`${k.secretNew} ${s}`}
                hint={storedSecrets.includes(s) ? `${s} ${k.secretSet}` : k.secretRetype}
                value=""
                errors={errors}
                autocomplete="new-password"
              />
            ))}
          </fieldset>
        ) : null}
        <div class="actions">
          <button type="submit">{t.common.save}</button>
          <a href="/ui/connectors">{t.common.cancel}</a>
        </div>
      </form>
      {p.editing ? (
        <>
          {p.usage ? <QuotaUsageView c={c} usage={p.usage} /> : null}
          {p.stored ? <ConnectBlock c={c} id={p.editing} config={p.stored} /> : null}
          <section class="card" aria-labelledby="try-title">
            <h2 id="try-title" style="margin-top:0">
              {k.tryTitle}
            </h2>
            <form method="post" action={`/ui/connectors/${p.editing}/try`} class="inline">
              <CsrfField token={csrf} />
              <div class="field">
                <label for={tryId}>{k.tryId}</label>
                <input id={tryId} name="idContact" type="text" inputmode="numeric" autocomplete="off" value={p.tried?.id ?? ""} required />
              </div>
              <button type="submit">{k.tryButton}</button>
            </form>
            {p.tried && p.stored ? <TryResultView c={c} result={p.tried.result} config={p.stored} /> : null}
          </section>
          <form method="post" action={`/ui/connectors/${p.editing}/delete`}>
            <CsrfField token={csrf} />
            <button type="submit" class="danger">
              {t.common.delete}
            </button>
          </form>
        </>
      ) : null}
    </Layout>
  );
}

function TextAreaFieldWithTemplates(p: { value: string; errors: FieldErrors; label: string; hint: string; templates: string | undefined }) {
  if (!p.templates) return <TextAreaField name="config" label={p.label} hint={p.hint} value={p.value} errors={p.errors} />;
  // The templates ride on the textarea as data, so the script needs no inline code (CSP).
  const id = controlId("config");
  const error = p.errors.config;
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <textarea
        id={id}
        name="config"
        rows={14}
        spellcheck={false}
        data-templates={p.templates}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={[error ? `${id}-err` : "", `${id}-hint`].filter(Boolean).join(" ")}
      >
        {p.value}
      </textarea>
      {error ? (
        <p class="error" id={`${id}-err`}>
          {error}
        </p>
      ) : null}
      <p class="hint" id={`${id}-hint`}>
        {p.hint}
      </p>
    </div>
  );
}

const nodesUsing = (c: UiContext, connector: string) => connectorUsers(c.get("svc"), tenantOf(c), connector);

async function editPage(c: UiContext, id: string, extra: Partial<PageProps> = {}, status: 200 | 400 | 409 = 200) {
  const stored = await findConnector(c.get("svc"), tenantOf(c), id);
  if (!stored) return notFoundPage(c);
  return c.html(
    <ConnectorPage c={c} form={configToForm(id, stored)} errors={{}} editing={id} stored={stored} usedBy={await nodesUsing(c, id)} usage={await connectorUsage(c.get("svc"), tenantOf(c), id).catch(() => null)} {...extra} />,
    status,
  );
}

async function saveConnector(c: UiContext, editing: string | null) {
  const t = c.get("t");
  const tenant = tenantOf(c);
  const form = await readForm(c);
  const errors: FieldErrors = {};
  let id = editing;
  const svc = c.get("svc");
  const stored = editing ? await findConnector(svc, tenant, editing) : null;
  if (editing && !stored) return notFoundPage(c);
  if (!id) {
    const raw = (form.id ?? "").trim();
    const parsedId = slug.safeParse(raw, { error: zodErrorMap(c.get("lang")) });
    if (!raw) errors.id = t.connector.idRequired;
    else if (!parsedId.success) errors.id = parsedId.error.issues[0]?.message ?? "invalid";
    else if (parsedId.data === "new") errors.id = t.common.reserved;
    else if (await findConnector(svc, tenant, parsedId.data)) errors.id = t.connector.exists;
    else id = parsedId.data;
  }
  const input = formToInput(form, errors, t.connector.badJson);
  if (input) {
    const parse = { error: zodErrorMap(c.get("lang")) };
    try {
      // Without an id the config is still checked, so the page shows every error at once.
      if (id && !Object.keys(errors).length) {
        await putConnector(svc, tenant, id, input, parse);
        return c.redirect(`/ui/connectors?saved=${encodeURIComponent(id)}`, 303);
      }
      checkConnector(input, parse);
    } catch (e) {
      if (e instanceof SecretRequired) {
        // Next to each secret to type again, and above the settings that moved.
        errors.config = `${t.connector.secretMoved}: ${e.destinations.join(", ")}`;
        for (const s of e.secrets) errors[SECRET_PREFIX + s] = t.connector.secretRetypeMoved;
      } else if (e instanceof DomainError && e.code === "validation_failed") {
        for (const [k, m] of Object.entries(connectorIssues(e.issues))) errors[k] ??= m;
      } else throw e;
    }
  }
  // Typed secret values are never sent back, not even after an error: the page only says where one goes.
  const echoed = Object.fromEntries(Object.entries(form).filter(([k]) => !k.startsWith(SECRET_PREFIX)));
  if (input) echoed.config = maskedEcho(input);
  const typedSecrets = input ? secretPaths(input as { kind: string }) : [];
  return c.html(
    <ConnectorPage c={c} form={echoed} errors={errors} editing={editing} stored={stored} usedBy={editing ? await nodesUsing(c, editing) : []} typedSecrets={typedSecrets} />,
    400,
  );
}

export function connectorPages(ui: UiApp) {
  ui.get("/connectors", async (c) => {
    const t = c.get("t");
    const tenant = tenantOf(c);
    const [connectors, nodes] = await Promise.all([listConnectors(c.get("svc"), tenant), listNodes(c.get("svc"), tenant)]);
    return c.html(
      <ListPage
        c={c}
        current="connectors"
        title={t.connector.listTitle}
        add={t.connector.add}
        empty={t.connector.empty}
        head={[t.common.id, t.connector.kind, t.connector.timeoutMs, t.connector.usedBy]}
        rows={connectors.map((x) => (
          <tr>
            <td>
              <a href={`/ui/connectors/${x.id}`}>{x.id}</a>
            </td>
            <td>{x.kind}</td>
            <td>{x.timeoutMs}</td>
            <td>
              {nodes
                .filter((n) => connectorNames(n).includes(x.id))
                .map((n) => n.id)
                .join(", ") || "—"}
            </td>
          </tr>
        ))}
      />,
    );
  });

  ui.get("/connectors/new", (c) => {
    const kind = connectorModules[0].kind;
    const form: ConnectorForm = { id: "", kind, timeoutMs: "1500", "cache.ttlSeconds": "60", "cache.negativeTtlSeconds": "10", "cache.staleIfErrorSeconds": "300", config: template(kind) };
    return c.html(<ConnectorPage c={c} form={form} errors={{}} editing={null} stored={null} usedBy={[]} />);
  });
  ui.post("/connectors/new", (c) => saveConnector(c, null));

  ui.get("/connectors/:connector", (c) => {
    return editPage(c, c.req.param("connector"));
  });
  ui.post("/connectors/:connector", (c) => saveConnector(c, c.req.param("connector")));

  ui.post("/connectors/:connector/delete", async (c) => {
    const id = c.req.param("connector");
    const t = c.get("t");
    try {
      await deleteConnector(c.get("svc"), tenantOf(c), id);
    } catch (e) {
      // In use: the page names the nodes, as the service's message does.
      if (e instanceof DomainError && e.code === "connector_in_use") {
        return editPage(c, id, { banner: { kind: "err", text: `${t.connector.inUse} ${(await nodesUsing(c, id)).join(", ")}` } }, 409);
      }
      throw e;
    }
    return c.redirect(`/ui/connectors?deleted=${encodeURIComponent(id)}`, 303);
  });

  ui.post("/connectors/:connector/try", async (c) => {
    const id = c.req.param("connector");
    if (!(await findConnector(c.get("svc"), tenantOf(c), id))) return notFoundPage(c);
    const idContact = ((await readForm(c)).idContact ?? "").trim();
    return editPage(c, id, { tried: { id: idContact, result: await tryId(c, id, idContact) } });
  });
}
