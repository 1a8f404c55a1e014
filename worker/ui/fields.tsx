
/** Field errors by form-field name ("successDestination.id"); "" holds errors about the whole form. */
export type FieldErrors = Record<string, string>;

export const controlId = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, "-")}`;

function describedBy(id: string, hint: boolean, error: boolean): string | undefined {
  const ids = [error ? `${id}-err` : "", hint ? `${id}-hint` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

function Messages(p: { id: string; hint?: string | undefined; error?: string | undefined }) {
  return (
    <>
      {p.error ? (
        <p class="error" id={`${p.id}-err`}>
          {p.error}
        </p>
      ) : null}
      {p.hint ? (
        <p class="hint" id={`${p.id}-hint`}>
          {p.hint}
        </p>
      ) : null}
    </>
  );
}

type Common = { name: string; label: string; hint?: string | undefined; errors: FieldErrors; required?: boolean };

export function TextField(p: Common & { value: string; type?: "text" | "number" | "password"; min?: number; max?: number; autocomplete?: string; placeholder?: string; readonly?: boolean }) {
  const id = controlId(p.name);
  const error = p.errors[p.name];
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        type={p.type ?? "text"}
        value={p.value}
        min={p.min}
        max={p.max}
        required={p.required}
        readonly={p.readonly}
        placeholder={p.placeholder}
        autocomplete={p.autocomplete ?? "off"}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(id, !!p.hint, !!error)}
      />
      <Messages id={id} hint={p.hint} error={error} />
    </div>
  );
}

export function SelectField(p: Common & { value: string; options: ReadonlyArray<{ value: string; label: string }> }) {
  const id = controlId(p.name);
  const error = p.errors[p.name];
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <select id={id} name={p.name} required={p.required} aria-invalid={error ? "true" : undefined} aria-describedby={describedBy(id, !!p.hint, !!error)}>
        {p.options.map((o) => (
          <option value={o.value} selected={o.value === p.value}>
            {o.label}
          </option>
        ))}
      </select>
      <Messages id={id} hint={p.hint} error={error} />
    </div>
  );
}

export function CheckboxField(p: Common & { checked: boolean }) {
  const id = controlId(p.name);
  const error = p.errors[p.name];
  return (
    <div class="field check">
      <input
        id={id}
        name={p.name}
        type="checkbox"
        value="on"
        checked={p.checked}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(id, !!p.hint, !!error)}
      />
      <label for={id}>{p.label}</label>
      <Messages id={id} hint={p.hint} error={error} />
    </div>
  );
}

export function TextAreaField(p: Common & { value: string; rows?: number }) {
  const id = controlId(p.name);
  const error = p.errors[p.name];
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <textarea
        id={id}
        name={p.name}
        rows={p.rows ?? 14}
        spellcheck={false}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(id, !!p.hint, !!error)}
      >
        {p.value}
      </textarea>
      <Messages id={id} hint={p.hint} error={error} />
    </div>
  );
}

/**
 * The summary above a form that failed: every error once, those of a control as a link that
 * moves focus to it (so a keyboard or screen-reader user can go straight to each one), and
 * errors that belong to no control as plain text.
 */
export function FormErrors(p: { errors: FieldErrors; labels: Readonly<Record<string, string>>; title: string }) {
  const entries = Object.entries(p.errors);
  if (!entries.length) return null;
  return (
    <div class="banner err" role="alert" id="form-errors">
      <p style="margin:0">{p.title}</p>
      <ul style="margin:.3rem 0 0">
        {entries.map(([k, m]) => {
          const label = p.labels[k];
          return <li>{label ? <a href={`#${controlId(k)}`}>{`${label}: ${m}`}</a> : k ? `${k}: ${m}` : m}</li>;
        })}
      </ul>
    </div>
  );
}
