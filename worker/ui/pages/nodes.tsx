import { DESTINATION_TYPES, type Destination } from "../../../shared/destination.js";
import { slug, slugFromName } from "../../../shared/ids.js";
import { connectorNames, identifyBy, interaction, type Node } from "../../../shared/node.js";
import { listConnectors } from "../../services/connectors.js";
import { DomainError } from "../../services/errors.js";
import { checkNode, deleteNode, findNode, listNodes, putNode } from "../../services/nodes.js";
import { readForm, tenantOf, type UiApp, type UiContext } from "../context.js";
import { CheckboxField, FormErrors, SelectField, TextField, type FieldErrors } from "../fields.js";
import type { Dict } from "../i18n.js";
import { fieldErrors, firstIssue } from "../issues.js";
import { CsrfField, Layout } from "../layout.js";
import { notFoundPage } from "./errors.js";
import { ListPage } from "./list.js";

type NodeForm = Record<string, string>;
const SELECTS = new Set(["interaction", "identifyBy"]);

const FIELDS = [
  "id",
  "name",
  "interaction",
  "connector",
  "audio",
  "expectedLength",
  "timeoutSeconds",
  "attempts",
  "confirm",
  "identifyBy",
  "confirmCaller",
  "defaultCountry",
  "successDestination.type",
  "successDestination.id",
  "failureDestination.type",
  "failureDestination.id",
] as const;

const EMPTY: NodeForm = {
  id: "",
  name: "",
  interaction: "none",
  connector: "",
  audio: "sound:beep",
  expectedLength: "",
  timeoutSeconds: "5",
  attempts: "1",
  identifyBy: "dtmf",
  defaultCountry: "",
  "successDestination.type": "1",
  "successDestination.id": "",
  "failureDestination.type": "5",
  "failureDestination.id": "",
};

function nodeToForm(n: Node): NodeForm {
  return {
    id: n.id,
    name: n.name,
    interaction: n.interaction,
    connector: connectorNames(n).join(","),
    audio: n.audio,
    expectedLength: n.expectedLength == null ? "" : String(n.expectedLength),
    timeoutSeconds: String(n.timeoutSeconds),
    attempts: String(n.attempts),
    ...(n.confirm ? { confirm: "on" } : {}),
    identifyBy: n.identifyBy,
    ...(n.confirmCaller ? { confirmCaller: "on" } : {}),
    defaultCountry: n.defaultCountry ?? "",
    "successDestination.type": String(n.successDestination.type),
    "successDestination.id": String(n.successDestination.id),
    "failureDestination.type": String(n.failureDestination.type),
    "failureDestination.id": String(n.failureDestination.id),
  };
}

// Empty number fields mean "not given" so the schema's defaults apply; anything else goes to
// zod as a number (NaN included), which then says what is wrong with it.
const num = (s: string | undefined) => (s === undefined || s.trim() === "" ? undefined : Number(s.trim()));

/** The raw form as the PUT body the API takes; the shared schema does every check. */
function formToNodeInput(f: NodeForm): unknown {
  const conn = (f.connector ?? "").trim();
  return {
    name: f.name ?? "",
    interaction: f.interaction ?? "",
    ...(conn ? { connector: conn.includes(",") ? conn.split(",").map((s) => s.trim()) : conn } : {}),
    ...(f.audio?.trim() ? { audio: f.audio } : {}),
    expectedLength: num(f.expectedLength) ?? null,
    timeoutSeconds: num(f.timeoutSeconds),
    attempts: num(f.attempts),
    confirm: f.confirm === "on",
    ...(f.identifyBy ? { identifyBy: f.identifyBy } : {}),
    confirmCaller: f.confirmCaller === "on",
    // Typed in lower case is still the country meant.
    ...(f.defaultCountry?.trim() ? { defaultCountry: f.defaultCountry.trim().toUpperCase() } : {}),
    successDestination: { type: num(f["successDestination.type"]), id: num(f["successDestination.id"]) },
    failureDestination: { type: num(f["failureDestination.type"]), id: num(f["failureDestination.id"]) },
  };
}

const destLabel = (t: Dict, d: Destination) => `${t.destinationTypes[d.type] ?? d.type} · ${d.id}`;

function NodeFormPage(p: { c: UiContext; form: NodeForm; errors: FieldErrors; connectors: string[]; editing: string | null }) {
  const { c, form, errors } = p;
  const t = c.get("t");
  const n = t.node;
  const typeOptions = Object.keys(DESTINATION_TYPES).map((k) => ({ value: k, label: `${k} · ${t.destinationTypes[Number(k)]}` }));
  const connectorOptions = [{ value: "", label: t.common.none }, ...p.connectors.map((id) => ({ value: id, label: id }))];
  // A chain set through the API ("a,b") stays selectable so saving the form does not drop it.
  if (form.connector && !connectorOptions.some((o) => o.value === form.connector)) connectorOptions.push({ value: form.connector, label: form.connector.replaceAll(",", " → ") });
  const action = p.editing ? `/ui/nodes/${p.editing}` : "/ui/nodes/new";
  const v = (k: string) => form[k] ?? "";
  return (
    <Layout
      t={t}
      lang={c.get("lang")}
      title={p.editing ? `${n.editTitle}: ${p.editing}` : n.newTitle}
      current="nodes"
      path={p.editing ? `/ui/nodes/${p.editing}` : "/ui/nodes/new"}
      tenant={tenantOf(c)}
      csrf={c.get("session").csrf}
    >
      <FormErrors
        errors={errors}
        title={t.common.fixErrors}
        labels={{
          id: t.common.id,
          name: n.name,
          interaction: n.interaction,
          connector: n.connector,
          audio: n.audio,
          expectedLength: n.expectedLength,
          timeoutSeconds: n.timeoutSeconds,
          attempts: n.attempts,
          confirm: n.confirm,
          identifyBy: n.identifyBy,
          confirmCaller: n.confirmCaller,
          defaultCountry: n.defaultCountry,
          "successDestination.type": n.successType,
          "successDestination.id": n.successId,
          "failureDestination.type": n.failureType,
          "failureDestination.id": n.failureId,
        }}
      />
      <form method="post" action={action} class="card" id="node-form" novalidate>
        <CsrfField token={c.get("session").csrf} />
        <div class="row">
          <TextField name="name" label={n.name} value={v("name")} errors={errors} required />
          <TextField name="id" label={t.common.id} value={v("id")} errors={errors} hint={p.editing ? undefined : t.common.idHint} readonly={!!p.editing} />
        </div>
        <div class="row">
          <SelectField name="interaction" label={n.interaction} value={v("interaction")} errors={errors} options={interaction.options.map((o) => ({ value: o, label: n.interactions[o] }))} />
          <SelectField name="connector" label={n.connector} value={v("connector")} errors={errors} options={connectorOptions} />
        </div>
        <div class="row">
          <TextField name="audio" label={n.audio} value={v("audio")} errors={errors} />
          <TextField name="expectedLength" type="number" min={1} max={30} label={n.expectedLength} value={v("expectedLength")} errors={errors} />
        </div>
        <div class="row">
          <TextField name="timeoutSeconds" type="number" min={1} max={60} label={n.timeoutSeconds} value={v("timeoutSeconds")} errors={errors} />
          <TextField name="attempts" type="number" min={1} max={20} label={n.attempts} value={v("attempts")} errors={errors} />
        </div>
        <CheckboxField name="confirm" label={n.confirm} hint={n.confirmHint} checked={form.confirm === "on"} errors={errors} />
        <div class="row">
          <SelectField name="identifyBy" label={n.identifyBy} value={v("identifyBy")} errors={errors} options={identifyBy.options.map((o) => ({ value: o, label: n.identifyByOptions[o] }))} />
          <TextField name="defaultCountry" label={n.defaultCountry} hint={n.defaultCountryHint} value={v("defaultCountry")} errors={errors} />
        </div>
        <CheckboxField name="confirmCaller" label={n.confirmCaller} hint={n.confirmCallerHint} checked={form.confirmCaller === "on"} errors={errors} />
        {(["success", "failure"] as const).map((which) => (
          <fieldset>
            <legend>{n[which]}</legend>
            <div class="row">
              <SelectField name={`${which}Destination.type`} label={n[`${which}Type`]} value={v(`${which}Destination.type`)} errors={errors} options={typeOptions} />
              <TextField name={`${which}Destination.id`} type="number" min={1} label={n[`${which}Id`]} value={v(`${which}Destination.id`)} errors={errors} />
            </div>
          </fieldset>
        ))}
        <div class="actions">
          <button type="submit">{t.common.save}</button>
          <a href="/ui/nodes">{t.common.cancel}</a>
        </div>
      </form>
      {p.editing ? (
        <form method="post" action={`/ui/nodes/${p.editing}/delete`}>
          <CsrfField token={c.get("session").csrf} />
          <button type="submit" class="danger">
            {t.common.delete}
          </button>
        </form>
      ) : null}
    </Layout>
  );
}

async function connectorIds(c: UiContext) {
  return (await listConnectors(c.get("svc"), tenantOf(c))).map((x) => x.id);
}

/** The page checks only the id; the node service validates the rest, and its issues land beside their fields. */
async function saveNode(c: UiContext, editing: string | null) {
  const t = c.get("t");
  const form = await readForm(c);
  const tenant = tenantOf(c);
  const errors: FieldErrors = {};
  let id = editing;
  // An id left empty is made from the name; a refusal of it says so, and shows it in the field to change.
  let shown = form;
  if (!id) {
    const typed = (form.id ?? "").trim();
    const raw = typed || slugFromName(form.name ?? "");
    const parsedId = slug.safeParse(raw);
    if (!parsedId.success) {
      if (typed) errors.id = firstIssue(parsedId.error, c.get("lang"));
      else if ((form.name ?? "").trim()) errors.id = t.node.noIdFromName;
    } else if (parsedId.data === "new") {
      errors.id = t.common.reserved;
    } else if (await findNode(c.get("svc"), tenant, parsedId.data)) {
      errors.id = typed ? t.node.exists : t.node.existsFromName(parsedId.data);
    } else id = parsedId.data;
    if (!typed && parsedId.success && errors.id) shown = { ...form, id: parsedId.data };
  }
  const input = formToNodeInput(form);
  try {
    // Without an id the node is still checked, so the page shows every error at once.
    if (id && !Object.keys(errors).length) {
      await putNode(c.get("svc"), tenant, id, input);
      // Back to the list, where the saved node shows among the others.
      return c.redirect(`/ui/nodes?saved=${encodeURIComponent(id)}`, 303);
    }
    checkNode(input);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "validation_failed") throw e;
    for (const [k, m] of Object.entries(fieldErrors(e.issues, c.get("lang"), FIELDS))) errors[k] ??= m;
    // A select's value that is not one of its options (a page older than the server, or tampered with):
    // the option codes are the API's words, not the page's, so the page points at its own list.
    for (const i of e.issues) if (SELECTS.has(i.path) && i.detail?.code === "invalid_value") errors[i.path] = t.issues.chooseListed;
  }
  return c.html(<NodeFormPage c={c} form={shown} errors={errors} connectors={await connectorIds(c)} editing={editing} />, 400);
}

export function nodePages(ui: UiApp) {
  ui.get("/nodes", async (c) => {
    const t = c.get("t");
    const nodes = await listNodes(c.get("svc"), tenantOf(c));
    return c.html(
      <ListPage
        c={c}
        current="nodes"
        title={t.node.listTitle}
        add={t.node.add}
        empty={t.node.empty}
        head={[t.common.id, t.node.name, t.node.interaction, t.node.connector, t.node.success, t.node.failure]}
        rows={nodes.map((n) => (
          <tr>
            <td>
              <a href={`/ui/nodes/${n.id}`}>{n.id}</a>
            </td>
            <td>{n.name}</td>
            <td>{t.node.interactions[n.interaction]}</td>
            <td>{connectorNames(n).join(" → ") || "—"}</td>
            <td>{destLabel(t, n.successDestination)}</td>
            <td>{destLabel(t, n.failureDestination)}</td>
          </tr>
        ))}
      />,
    );
  });

  ui.get("/nodes/new", async (c) => c.html(<NodeFormPage c={c} form={EMPTY} errors={{}} connectors={await connectorIds(c)} editing={null} />));
  ui.post("/nodes/new", (c) => saveNode(c, null));

  ui.get("/nodes/:node", async (c) => {
    const node = await findNode(c.get("svc"), tenantOf(c), c.req.param("node"));
    if (!node) return notFoundPage(c);
    return c.html(<NodeFormPage c={c} form={nodeToForm(node)} errors={{}} connectors={await connectorIds(c)} editing={node.id} />);
  });
  ui.post("/nodes/:node", async (c) => {
    if (!(await findNode(c.get("svc"), tenantOf(c), c.req.param("node")))) return notFoundPage(c);
    return saveNode(c, c.req.param("node"));
  });
  ui.post("/nodes/:node/delete", async (c) => {
    const id = c.req.param("node");
    await deleteNode(c.get("svc"), tenantOf(c), id);
    return c.redirect(`/ui/nodes?deleted=${encodeURIComponent(id)}`, 303);
  });
}
