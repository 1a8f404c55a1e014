import { DEFAULT_QUOTAS, type ConnectorUsage } from "../../../shared/quota.js";
import { slug } from "../../../shared/ids.js";
import { connectorNames } from "../../../shared/node.js";
import { connectorModule, connectorModules, type ConnectorConfig, type ConnectorKind } from "../../connectors/registry.js";
import { splitSecrets } from "../../connectors/secrets.js";
import { checkConnector, connectorUsage, connectorUsers, deleteConnector, findConnector, listConnectors, putConnector } from "../../services/connectors.js";
import { DomainError, SecretRequired } from "../../services/errors.js";
import { listNodes } from "../../services/nodes.js";
import { tenantTimeZone } from "../../services/tenants.js";
import { configToFields, fieldsToConfig, formFields, type FormField } from "../connector-fields.js";
import { formText, type FormText } from "../connector-form-text.js";
import { ConnectorFields, isStoredSecret } from "../connector-form-view.js";
import { readForm, tenantOf, type UiApp, type UiContext } from "../context.js";
import { controlId, FormErrors, SelectField, TextAreaField, TextField, type FieldErrors } from "../fields.js";
import { firstIssue, localizeIssues } from "../issues.js";
import { Banner, CsrfField, Layout } from "../layout.js";
import { applyAction, fillEmptyGroups, rulesFromFields, rulesToFields, type Fields } from "../rule-draft.js";
import { TryResultView, tryLookup, type TryResult } from "./connector-try.js";
import { QuotaUsageView } from "./connector-usage.js";
import { notFoundPage } from "./errors.js";
import { ConnectBlock, SaveAndConnect, startConsent } from "../../oauth-connect/routes.js";
import { ListPage } from "./list.js";

/** The JSON box as sent back after an error: typed secrets replaced by "***", like stored ones. */
function maskedEcho(input: Record<string, unknown>): string {
  const kind = input.kind;
  const secrets = typeof kind === "string" && connectorModules.some((m) => m.kind === kind) ? connectorModule(kind).secrets : [];
  return JSON.stringify(splitSecrets(input, secrets).masked, null, 2);
}

type Mode = "form" | "json";

type PageProps = {
  c: UiContext;
  id: string;
  kind: ConnectorKind;
  mode: Mode;
  /** Form mode: the flat form fields; JSON mode: `config`. */
  values: Fields;
  errors: FieldErrors;
  editing: string | null;
  stored: ConnectorConfig | null;
  usedBy: string[];
  banner?: { kind: "ok" | "err"; text: string } | undefined;
  tried?: { id: string; number: string; result: TryResult } | undefined;
  usage?: ConnectorUsage | null | undefined;
  timeZone?: string | undefined;
};

// The registry lists webhook first; typed as the union, which the module list cannot be without a cast.
const FIRST_KIND: ConnectorKind = "webhook";
const isKind = (k: unknown): k is ConnectorKind => typeof k === "string" && connectorModules.some((m) => m.kind === k);

function pageUrl(editing: string | null, kind: string, mode: Mode): string {
  const q = new URLSearchParams({ kind, ...(mode === "json" ? { view: "json" } : {}) });
  return `${editing ? `/ui/connectors/${editing}` : "/ui/connectors/new"}?${q}`;
}

/** Control name → label, for the error summary's links. */
function labelsOf(fields: FormField[], text: FormText, out: Record<string, string> = {}): Record<string, string> {
  for (const f of fields) {
    const l = text.fields[f.key]?.[0] ?? f.key;
    if (f.kind === "group") labelsOf(f.fields, text, out);
    else if (f.kind === "union") {
      out[`${f.name}.${f.discriminator}`] = `${l}: ${text.authType}`;
      for (const v of f.variants) labelsOf(v.fields, text, out);
    } else if (f.kind === "decision") out[`${f.name}.kind`] = `${l}: ${text.destination}`;
    else if (f.kind === "rules") out[f.name] = text.rules;
    else out[f.name] = l;
  }
  return out;
}

function ConnectorPage(p: PageProps) {
  const { c, errors } = p;
  const t = c.get("t");
  const text = formText(c.get("lang"));
  const k = t.connector;
  const csrf = c.get("session").csrf;
  const schema = connectorModule(p.kind).schema;
  const fields = formFields(schema);
  const hasRules = fields.some((f) => f.kind === "rules");
  const sameKind = p.stored?.kind === p.kind ? p.stored : null;
  const quota = DEFAULT_QUOTAS[p.kind];
  const ctx = {
    text,
    values: p.values,
    errors,
    stored: (name: string) => isStoredSecret(sameKind, name),
    destinationTypes: t.destinationTypes,
    placeholders: quota ? Object.fromEntries(Object.entries(quota).map(([q, n]) => [`quota.${q}`, String(n)])) : {},
  };
  const action = p.editing ? `/ui/connectors/${p.editing}` : "/ui/connectors/new";
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
      <FormErrors errors={errors} title={t.common.fixErrors} labels={{ id: t.common.id, kind: k.kind, config: text.json, ...labelsOf(fields, text) }} />
      {p.editing && p.usedBy.length ? <p>{`${k.usedBy}: ${p.usedBy.join(", ")}`}</p> : null}
      {p.mode === "form" ? (
        // A GET form: choosing a kind reloads the page with that kind's fields (works without JavaScript).
        <form method="get" action={action} class="inline" id="kind-switch">
          <SelectField name="kind" label={k.kind} value={p.kind} errors={errors} options={connectorModules.map((m) => ({ value: m.kind, label: m.kind }))} />
          <button type="submit" class="secondary">
            {text.changeKind}
          </button>
        </form>
      ) : null}
      <p>
        <a href={pageUrl(p.editing, p.kind, p.mode === "form" ? "json" : "form")}>{p.mode === "form" ? text.editAsJson : text.editAsForm}</a>
      </p>
      <form method="post" action={action} class="card" novalidate>
        {/* Enter in a field saves: the first submit button of a form is its default. */}
        <button type="submit" hidden tabindex={-1} aria-hidden="true" />
        <CsrfField token={csrf} />
        <input type="hidden" name="_view" value={p.mode} />
        <TextField name="id" label={t.common.id} value={p.id} errors={errors} readonly={!!p.editing} required />
        {p.mode === "json" ? (
          <TextAreaField name="config" rows={20} label={text.json} hint={text.jsonHint} value={p.values.config ?? ""} errors={errors} />
        ) : (
          <>
            <input type="hidden" name="kind" value={p.kind} />
            <ConnectorFields fields={fields} rules={hasRules ? rulesFromFields(p.values) : null} ctx={ctx} />
          </>
        )}
        {p.editing ? null : <SaveAndConnect c={c} kind={p.kind} />}
        <div class="actions">
          <button type="submit">{t.common.save}</button>
          <a href="/ui/connectors">{t.common.cancel}</a>
        </div>
      </form>
      {p.editing ? (
        <>
          {p.usage ? <QuotaUsageView c={c} usage={p.usage} timeZone={p.timeZone ?? "UTC"} /> : null}
          {p.stored ? <ConnectBlock c={c} id={p.editing} config={p.stored} /> : null}
          <section class="card" aria-labelledby="try-title">
            <h2 id="try-title" style="margin-top:0">
              {k.tryTitle}
            </h2>
            <form method="post" action={`/ui/connectors/${p.editing}/try`} class="inline">
              <CsrfField token={csrf} />
              <div class="field">
                <label for={controlId("idContact")}>{k.tryId}</label>
                <input id={controlId("idContact")} name="idContact" type="text" inputmode="numeric" autocomplete="off" value={p.tried?.id ?? ""} />
              </div>
              <div class="field">
                <label for={controlId("callerNumber")}>{k.tryNumber}</label>
                <input id={controlId("callerNumber")} name="callerNumber" type="tel" autocomplete="off" value={p.tried?.number ?? ""} aria-describedby={`${controlId("callerNumber")}-hint`} />
              </div>
              <button type="submit">{k.tryButton}</button>
            </form>
            {/* Below the row, so the two inputs and the button stay aligned. */}
            <p class="hint" id={`${controlId("callerNumber")}-hint`}>
              {k.tryNumberHint}
            </p>
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

/** What a page shows for a config: the form's fields (the schema's defaults where it is silent) or its JSON. */
function valuesFor(kind: ConnectorKind, mode: Mode, config: unknown): Fields {
  if (mode === "json") return { config: JSON.stringify({ ...(config as object), kind }, null, 2) };
  return configToFields(formFields(connectorModule(kind).schema), config);
}

const nodesUsing = (c: UiContext, connector: string) => connectorUsers(c.get("svc"), tenantOf(c), connector);

const modeOf = (v: string | undefined): Mode => (v === "json" ? "json" : "form");

async function editPage(c: UiContext, id: string, extra: Partial<PageProps> = {}, status: 200 | 400 | 409 = 200) {
  const stored = await findConnector(c.get("svc"), tenantOf(c), id);
  if (!stored) return notFoundPage(c);
  const asked = c.req.query("kind");
  const kind = isKind(asked) ? asked : stored.kind;
  const mode = modeOf(c.req.query("view"));
  // Another kind keeps what the two have in common (rules, timeout, cache); its secrets are typed anew.
  const base = kind === stored.kind ? stored : { ...stored, kind };
  return c.html(
    <ConnectorPage
      c={c}
      id={id}
      kind={kind}
      mode={mode}
      values={valuesFor(kind, mode, base)}
      errors={{}}
      editing={id}
      stored={stored}
      usedBy={await nodesUsing(c, id)}
      usage={await connectorUsage(c.get("svc"), tenantOf(c), id).catch(() => null)}
      timeZone={await tenantTimeZone(c.get("svc"), tenantOf(c))}
      {...extra}
    />,
    status,
  );
}

/** A zod issue's path as the form's control name: group children by index, not's child as "n". */
export function issueField(path: readonly PropertyKey[]): string {
  const out: string[] = [];
  for (let i = 0; i < path.length; i++) {
    const s = String(path[i]);
    if (s === "all" || s === "any") continue;
    if (s === "not") out.push("n");
    // A header's name is data, not a control: its errors go to the headers block.
    else if (out[0] === "headers" && out.length === 1) break;
    else out.push(s);
  }
  return out.join(".");
}

async function saveConnector(c: UiContext, editing: string | null) {
  const t = c.get("t");
  const text = formText(c.get("lang"));
  const tenant = tenantOf(c);
  const form = await readForm(c);
  const errors: FieldErrors = {};
  const mode = modeOf(form._view);
  let id = editing;
  const svc = c.get("svc");
  const stored = editing ? await findConnector(svc, tenant, editing) : null;
  if (editing && !stored) return notFoundPage(c);
  const usedBy = editing ? await nodesUsing(c, editing) : [];
  const page = (kind: ConnectorKind, values: Fields, status: 200 | 400) =>
    c.html(<ConnectorPage c={c} id={editing ?? form.id ?? ""} kind={kind} mode={mode} values={values} errors={errors} editing={editing} stored={stored} usedBy={usedBy} />, status);

  // A rule-builder button: the same page with the rules rearranged, nothing saved.
  const act = form._act;
  if (mode === "form" && act && isKind(form.kind)) {
    const rules = applyAction(rulesFromFields(form), act).map((r) => ({ ...r, when: fillEmptyGroups(r.when) }));
    const rest = Object.fromEntries(Object.entries(form).filter(([k]) => !k.startsWith("rules.")));
    return page(form.kind, rulesToFields(rules, rest), 200);
  }

  if (!id) {
    const raw = (form.id ?? "").trim();
    const parsedId = slug.safeParse(raw);
    if (!raw) errors.id = t.connector.idRequired;
    else if (!parsedId.success) errors.id = firstIssue(parsedId.error, c.get("lang"));
    else if (parsedId.data === "new") errors.id = t.common.reserved;
    else if (await findConnector(svc, tenant, parsedId.data)) errors.id = t.connector.exists;
    else id = parsedId.data;
  }

  let input: Record<string, unknown> | null = null;
  if (mode === "json") {
    try {
      const v: unknown = JSON.parse(form.config ?? "");
      if (v && typeof v === "object" && !Array.isArray(v)) input = v as Record<string, unknown>;
      else errors.config = `${t.connector.badJson} {…}`;
    } catch (e) {
      errors.config = `${t.connector.badJson} ${jsonErrorAt(form.config ?? "", e)}`;
    }
  } else if (isKind(form.kind)) {
    const parse = { stored: stored?.kind === form.kind ? stored : null, errors: {} as Fields, badJson: text.badJson };
    input = { kind: form.kind, ...fieldsToConfig(formFields(connectorModule(form.kind).schema), form, parse) };
    Object.assign(errors, parse.errors);
  } else errors.kind = t.connector.kind;

  const fieldOf = (path: string) => (mode === "json" ? "config" : issueField(path.split(".")) || "");
  if (input) {
    // One validation, the service's; its issues are worded in the page's language beside their controls.
    try {
      // Without an id (or with the form's own errors) the config is still checked, so the page shows every error at once.
      if (id && !Object.keys(errors).length) {
        await putConnector(svc, tenant, id, input);
        // "Save and connect": saved, then straight on to the CRM's consent.
        if (!editing && form._then === "connect") return startConsent(c, id, form);
        return c.redirect(`/ui/connectors?saved=${encodeURIComponent(id)}`, 303);
      }
      checkConnector(input);
    } catch (e) {
      if (e instanceof SecretRequired) {
        // Next to each secret to type again, and in the summary the settings that moved.
        errors[""] = `${t.connector.secretMoved}: ${e.destinations.join(", ")}`;
        for (const s of e.secrets) errors[mode === "json" ? "config" : s] = t.connector.secretRetypeMoved;
      } else if (e instanceof DomainError && e.code === "validation_failed") {
        for (const i of localizeIssues(e.issues, c.get("lang"))) {
          const f = fieldOf(i.path);
          const line = mode === "json" && i.path ? `${i.path}: ${i.message}` : i.message;
          errors[f] = errors[f] ? `${errors[f]}; ${line}` : line;
        }
      } else throw e;
    }
  }
  const kind = isKind(input?.kind) ? input.kind : isKind(form.kind) ? form.kind : (stored?.kind ?? FIRST_KIND);
  // Typed secret values are never sent back, not even after an error: the echo masks them.
  const echoed = mode === "json" ? { config: input ? maskedEcho(input) : (form.config ?? "") } : form;
  return page(kind, echoed, 400);
}

/**
 * Where JSON.parse stopped, as line:column: the engine's own message is English, whatever the
 * page's language, so only its position is kept.
 */
function jsonErrorAt(text: string, e: unknown): string {
  const pos = e instanceof Error ? /position (\d+)/.exec(e.message)?.[1] : undefined;
  const at = pos === undefined ? text.length : Number(pos);
  const before = text.slice(0, at).split("\n");
  return `${before.length}:${before.at(-1)!.length + 1}`;
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
    const asked = c.req.query("kind");
    const kind = isKind(asked) ? asked : FIRST_KIND;
    const mode = modeOf(c.req.query("view"));
    return c.html(<ConnectorPage c={c} id="" kind={kind} mode={mode} values={valuesFor(kind, mode, {})} errors={{}} editing={null} stored={null} usedBy={[]} />);
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
    const form = await readForm(c);
    const idContact = (form.idContact ?? "").trim();
    const number = (form.callerNumber ?? "").trim();
    // A number typed wins: the id field may still hold the previous try's id.
    const result = await tryLookup(c, id, number ? { callerNumber: number } : { idContact });
    return editPage(c, id, { tried: { id: number ? "" : idContact, number, result } });
  });
}
