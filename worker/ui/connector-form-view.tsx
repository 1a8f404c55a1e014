import { SECRET_MASK } from "../../shared/connector.js";
import type { FormField } from "./connector-fields.js";
import type { FormText } from "./connector-form-text.js";
import { controlId, SelectField, TextAreaField, TextField, type FieldErrors } from "./fields.js";
import { MAX_CONDITION_DEPTH, RULE_OPS, type DraftCondition, type DraftDecision, type DraftRule, type Fields } from "./rule-draft.js";

type Ctx = {
  text: FormText;
  values: Fields;
  errors: FieldErrors;
  /** Whether a secret is stored at this dot path (a "***" in the stored config of the same kind). */
  stored: (name: string) => boolean;
  destinationTypes: Record<number, string>;
  /** The kind's default quota, shown as placeholders of an empty quota block. */
  placeholders: Record<string, string>;
};

const label = (ctx: Ctx, key: string) => ctx.text.fields[key]?.[0] ?? key;
const hint = (ctx: Ctx, key: string) => ctx.text.fields[key]?.[1] || undefined;

function ErrorLine(p: { errors: FieldErrors; name: string }) {
  const e = p.errors[p.name];
  return e ? (
    <p class="error" id={`${controlId(p.name)}-err`}>
      {e}
    </p>
  ) : null;
}

function Field(p: { f: FormField; ctx: Ctx; legend?: string }) {
  const { f, ctx } = p;
  const v = ctx.values[f.name] ?? "";
  switch (f.kind) {
    case "text":
      return <TextField name={f.name} label={label(ctx, f.key)} hint={hint(ctx, f.key)} value={v} errors={ctx.errors} required={f.required} />;
    case "number":
      return (
        <TextField name={f.name} type="number" label={label(ctx, f.key)} hint={hint(ctx, f.key)} value={v} errors={ctx.errors} required={f.required} placeholder={ctx.placeholders[f.name]} />
      );
    case "secret": {
      const stored = ctx.stored(f.name);
      const h = [hint(ctx, f.key), stored ? ctx.text.secretStored : ctx.text.secretNotStored].filter(Boolean).join(" · ");
      return <TextField name={f.name} type="password" label={label(ctx, f.key)} hint={h} value="" errors={ctx.errors} required={f.required && !stored} autocomplete="new-password" />;
    }
    case "enum": {
      const options = [...(f.required ? [] : [{ value: "", label: ctx.text.none }]), ...f.options.map((o) => ({ value: o, label: o }))];
      return <SelectField name={f.name} label={label(ctx, f.key)} hint={hint(ctx, f.key)} value={v} errors={ctx.errors} options={options} />;
    }
    case "lines":
      return <TextAreaField name={f.name} rows={3} label={label(ctx, f.key)} hint={[hint(ctx, f.key), ctx.text.listHint].filter(Boolean).join(" · ")} value={v} errors={ctx.errors} />;
    case "decision":
      return <DecisionControls name={f.name} legend={label(ctx, f.key)} hint={hint(ctx, f.key)} d={{ kind: ctx.values[`${f.name}.kind`] as DraftDecision["kind"], type: ctx.values[`${f.name}.type`] ?? "", id: ctx.values[`${f.name}.id`] ?? "" }} ctx={ctx} />;
    case "rules":
      return null;
    case "record": {
      const rows = Object.keys(ctx.values).filter((k) => new RegExp(`^${f.name}\\.\\d+\\.name$`).test(k)).length;
      return (
        // The id is the summary link's target for an error about the whole block (a bad header name).
        <fieldset id={controlId(f.name)}>
          <legend>{label(ctx, f.key)}</legend>
          {hint(ctx, f.key) ? <p class="hint">{hint(ctx, f.key)}</p> : null}
          <ErrorLine errors={ctx.errors} name={f.name} />
          {/* Two empty rows beyond the stored ones: room to add without JavaScript. */}
          {Array.from({ length: rows + 2 }, (_, i) => {
            const n = ctx.values[`${f.name}.${i}.name`] ?? "";
            const stored = f.secret && n !== "" && ctx.stored(`${f.name}.${n}`);
            return (
              <div class="row">
                <TextField name={`${f.name}.${i}.name`} label={`${ctx.text.headerName} ${i + 1}`} value={n} errors={ctx.errors} />
                <TextField
                  name={`${f.name}.${i}.value`}
                  type={f.secret ? "password" : "text"}
                  label={`${ctx.text.headerValue} ${i + 1}`}
                  hint={stored ? ctx.text.secretStored : undefined}
                  value={f.secret ? "" : (ctx.values[`${f.name}.${i}.value`] ?? "")}
                  errors={ctx.errors}
                  autocomplete={f.secret ? "new-password" : undefined}
                />
              </div>
            );
          })}
        </fieldset>
      );
    }
    case "group":
      return (
        <fieldset>
          <legend>{label(ctx, f.key)}</legend>
          {hint(ctx, f.key) ? <p class="hint">{hint(ctx, f.key)}</p> : null}
          <ErrorLine errors={ctx.errors} name={f.name} />
          <div class="row">
            {f.fields.map((x) => (
              <Field f={x} ctx={ctx} />
            ))}
          </div>
        </fieldset>
      );
    case "union": {
      const typeName = `${f.name}.${f.discriminator}`;
      const options = [...(f.optional ? [{ value: "", label: ctx.text.none }] : []), ...f.variants.map((x) => ({ value: x.value, label: ctx.text.authTypes[x.value] ?? x.value }))];
      return (
        <fieldset>
          <legend>{label(ctx, f.key)}</legend>
          <ErrorLine errors={ctx.errors} name={f.name} />
          <SelectField name={typeName} label={`${label(ctx, f.key)}: ${ctx.text.authType}`} value={ctx.values[typeName] ?? ""} errors={ctx.errors} options={options} />
          {/* Every variant's fields are on the page (no script needed to switch); only the chosen type's are read. */}
          {f.variants.map((x) =>
            x.fields.length ? (
              <fieldset>
                <legend>{ctx.text.authTypes[x.value] ?? x.value}</legend>
                <div class="row">
                  {x.fields.map((y) => (
                    <Field f={y} ctx={ctx} />
                  ))}
                </div>
              </fieldset>
            ) : null,
          )}
        </fieldset>
      );
    }
  }
}

function DecisionControls(p: { name: string; legend: string; labelPrefix?: string; hint?: string | undefined; d: DraftDecision; ctx: Ctx }) {
  const { ctx, d } = p;
  const kinds = (["true", "false", "route"] as const).map((k) => ({ value: k, label: ctx.text.decisionKinds[k] ?? k }));
  const types = Object.entries(ctx.destinationTypes).map(([v, l]) => ({ value: v, label: `${v} — ${l}` }));
  const at = p.labelPrefix ?? p.legend;
  return (
    <fieldset class="decision">
      <legend>{p.legend}</legend>
      {p.hint ? <p class="hint">{p.hint}</p> : null}
      <div class="row">
        <SelectField name={`${p.name}.kind`} label={`${at}: ${ctx.text.destination}`} value={d.kind ?? "true"} errors={ctx.errors} options={kinds} />
        <SelectField name={`${p.name}.type`} label={`${at}: ${ctx.text.destType}`} value={d.type} errors={ctx.errors} options={types} />
        <TextField name={`${p.name}.id`} type="number" min={1} label={`${at}: ${ctx.text.destId}`} value={d.id} errors={ctx.errors} />
      </div>
      <ErrorLine errors={ctx.errors} name={p.name} />
    </fieldset>
  );
}

function ActionButton(p: { act: string; children: string }) {
  return (
    <button type="submit" name="_act" value={p.act} class="secondary">
      {p.children}
    </button>
  );
}

function ConditionControls(p: { d: DraftCondition; name: string; where: string; depth: number; ctx: Ctx; siblings: number; index: number | null }) {
  const { d, ctx, name } = p;
  const text = ctx.text;
  const types = (["cmp", "all", "any", "not"] as const).filter((t) => t === "cmp" || p.depth < MAX_CONDITION_DEPTH).map((t) => ({ value: t, label: text.nodeTypes[t] ?? t }));
  const moves =
    p.index !== null ? (
      <>
        {p.index > 0 ? <ActionButton act={`up:${name}`}>{`${text.up} (${p.where})`}</ActionButton> : null}
        {p.index < p.siblings - 1 ? <ActionButton act={`down:${name}`}>{`${text.down} (${p.where})`}</ActionButton> : null}
        {p.siblings > 1 ? <ActionButton act={`del:${name}`}>{`${text.remove} (${p.where})`}</ActionButton> : null}
      </>
    ) : null;
  return (
    <fieldset class="condition">
      <legend>{p.where}</legend>
      <ErrorLine errors={ctx.errors} name={name} />
      <SelectField name={`${name}.t`} label={`${p.where}: ${text.condition}`} value={d.t} errors={ctx.errors} options={types} />
      {d.t === "cmp" ? (
        <div class="row">
          <TextField name={`${name}.path`} label={`${p.where}: ${text.path}`} value={d.path} errors={ctx.errors} placeholder="properties.plan" />
          <SelectField name={`${name}.op`} label={`${p.where}: ${text.op}`} value={d.op} errors={ctx.errors} options={RULE_OPS.map((o) => ({ value: o, label: o }))} />
          <SelectField name={`${name}.vt`} label={`${p.where}: ${text.valueType}`} value={d.vt} errors={ctx.errors} options={(["text", "json", "none"] as const).map((v) => ({ value: v, label: text.valueTypes[v] ?? v }))} />
          <TextField name={`${name}.value`} label={`${p.where}: ${text.value}`} value={d.value} errors={ctx.errors} />
          <div class="field check">
            <input id={controlId(`${name}.flags`)} name={`${name}.flags`} type="checkbox" value="i" checked={d.flags} />
            <label for={controlId(`${name}.flags`)}>{`${p.where}: ${text.caseInsensitive}`}</label>
          </div>
        </div>
      ) : d.t === "not" ? (
        <ConditionControls d={d.child} name={`${name}.n`} where={`${p.where} › ${text.nodeTypes.not}`} depth={p.depth + 1} ctx={ctx} siblings={1} index={null} />
      ) : (
        <>
          {d.children.map((c, i) => (
            <ConditionControls d={c} name={`${name}.${i}`} where={`${p.where}.${i + 1}`} depth={p.depth + 1} ctx={ctx} siblings={d.children.length} index={i} />
          ))}
          <div class="actions">
            {types.map((t) => (
              <ActionButton act={`add:${name}:${t.value}`}>{`${text.add(t.label)} (${p.where})`}</ActionButton>
            ))}
          </div>
        </>
      )}
      <div class="actions">{moves}</div>
    </fieldset>
  );
}

export function RuleBuilder(p: { rules: DraftRule[]; ctx: Ctx }) {
  const { ctx } = p;
  const text = ctx.text;
  return (
    <fieldset id="rules">
      <legend id={controlId("rules")}>{text.rules}</legend>
      <p class="hint">{text.rulesHint}</p>
      <ErrorLine errors={ctx.errors} name="rules" />
      {p.rules.map((r, i) => {
        const where = text.rule(i + 1);
        return (
          <fieldset class="rule">
            <legend>{where}</legend>
            <ConditionControls d={r.when} name={`rules.${i}.when`} where={where} depth={0} ctx={ctx} siblings={1} index={null} />
            <DecisionControls name={`rules.${i}.destination`} legend={`${where} → ${text.destination}`} labelPrefix={where} d={r.destination} ctx={ctx} />
            <div class="actions">
              {i > 0 ? <ActionButton act={`up:rules.${i}`}>{`${text.up} (${where})`}</ActionButton> : null}
              {i < p.rules.length - 1 ? <ActionButton act={`down:rules.${i}`}>{`${text.down} (${where})`}</ActionButton> : null}
              <ActionButton act={`del:rules.${i}`}>{`${text.remove} (${where})`}</ActionButton>
            </div>
          </fieldset>
        );
      })}
      <div class="actions">
        <ActionButton act="add-rule">{text.addRule}</ActionButton>
        <ActionButton act="refresh">{text.apply}</ActionButton>
      </div>
    </fieldset>
  );
}

/** The kind's fields, then its rule builder, then the default and not-found destinations. */
export function ConnectorFields(p: { fields: FormField[]; rules: DraftRule[] | null; ctx: Ctx }) {
  const plain = p.fields.filter((f) => f.kind !== "rules" && f.kind !== "decision");
  const decisions = p.fields.filter((f) => f.kind === "decision");
  return (
    <>
      {plain.map((f) => (
        <Field f={f} ctx={p.ctx} />
      ))}
      {p.rules ? <RuleBuilder rules={p.rules} ctx={p.ctx} /> : null}
      {decisions.map((f) => (
        <Field f={f} ctx={p.ctx} />
      ))}
    </>
  );
}

export type { Ctx as ConnectorFieldsContext };
export const isStoredSecret = (stored: unknown, name: string): boolean =>
  name.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), stored) === SECRET_MASK;
