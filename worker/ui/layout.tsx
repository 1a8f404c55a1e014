import type { Child } from "hono/jsx";
import { CSRF_FIELD } from "./csrf.js";
import type { Dict, Lang } from "./i18n.js";

const CSS = `
:root{--fg:#1d2330;--muted:#5b6475;--bg:#f6f7f9;--card:#fff;--line:#d5d9e0;--accent:#1f5fbf;--err:#b3261e;--ok:#1e7a3a;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
body{margin:0;line-height:1.45}
a{color:var(--accent)}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px;z-index:9}
header{background:#17324d;color:#fff;padding:.5rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none;padding:.25rem .5rem;border-radius:4px}
header a[aria-current=page]{background:rgba(255,255,255,.18)}
header a:focus-visible,header button:focus-visible{outline:2px solid #ffd54a;outline-offset:2px}
header .brand{font-weight:700;margin-right:.5rem}
header nav{display:flex;gap:.25rem;flex-wrap:wrap}
header .end{margin-left:auto;display:flex;gap:.75rem;align-items:center;flex-wrap:wrap;min-width:0}
header .end span{overflow-wrap:anywhere;min-width:0}
header form{margin:0}
header button{background:transparent;color:#fff;border:1px solid rgba(255,255,255,.5);border-radius:4px;padding:.2rem .6rem;cursor:pointer;font:inherit}
main{max-width:64rem;margin:1.25rem auto;padding:0 1rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem;margin-bottom:1rem}
.field{margin:0 0 .85rem}
.field label{display:block;font-weight:600;margin-bottom:.2rem}
.field.check label{display:inline;font-weight:600;margin-left:.35rem}
.row{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:0 1rem}
input[type=text],input[type=number],input[type=password],select,textarea{font:inherit;padding:.4rem .5rem;border:1px solid #9aa3b2;border-radius:5px;width:100%;box-sizing:border-box;background:#fff;color:inherit}
textarea{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem;min-height:14rem}
input:focus-visible,select:focus-visible,textarea:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid #ffbf47;outline-offset:1px}
input[readonly]{background:#eef1f5;color:var(--muted)}
[aria-invalid=true]{border-color:var(--err);background:#fff6f5}
.error{color:var(--err);margin:.2rem 0 0;font-size:.9rem}
.hint{color:var(--muted);margin:.2rem 0 0;font-size:.85rem}
.banner{padding:.6rem .9rem;border-radius:6px;margin-bottom:1rem;border:1px solid}
.banner.err{color:var(--err);border-color:#e8b4b0;background:#fdf0ef}
.banner.ok{color:var(--ok);border-color:#a9d5b6;background:#eef8f1}
button,.button{font:inherit;background:var(--accent);color:#fff;border:0;border-radius:5px;padding:.45rem 1rem;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#fff;color:var(--fg);border:1px solid #9aa3b2}
button.danger{background:#fff;color:var(--err);border:1px solid var(--err)}
table{border-collapse:collapse;width:100%;background:var(--card);font-size:.92rem}
th,td{text-align:left;padding:.4rem .55rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f5}
td form{display:inline}
.actions{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;margin-top:.5rem}
.inline{display:flex;gap:.75rem;align-items:flex-end;flex-wrap:wrap}.inline .field{margin:0}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.key{word-break:break-all;background:#fffbe6;border:1px dashed #c9a400;padding:.5rem;display:block}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}
.legend{display:flex;gap:.75rem;flex-wrap:wrap;font-size:.85rem;color:var(--muted)}
.sw{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.25rem;vertical-align:-1px}
fieldset{border:1px solid var(--line);border-radius:6px;margin:0 0 .85rem;padding:.6rem .9rem}
legend{font-weight:600;padding:0 .3rem}
.nowrap{white-space:nowrap}
.clip{max-width:12rem;overflow-wrap:break-word}
.reason{display:block;margin:0;min-width:12rem}
.chart-empty{display:flex;align-items:center;justify-content:center;aspect-ratio:480/170;max-width:36rem;background:#fff;border:1px dashed #d5d9e0;border-radius:6px;color:var(--muted)}
main :is(p,li,h1,h2,.error,.hint,.banner){overflow-wrap:anywhere}
/* A wide window: a long id or name breaks inside its cell rather than widen the table past it (on a phone the table scrolls instead). */
@media (min-width:48.01rem){td{overflow-wrap:anywhere}td :is(button,.nowrap){overflow-wrap:normal}}
pre{overflow-x:auto;max-width:100%}
/* A phone: wide tables scroll inside themselves instead of pushing the page past the window. */
@media (max-width:48rem){table{display:block;overflow-x:auto;max-width:100%}.charts{grid-template-columns:minmax(0,1fr)}header .end{margin-left:0}}
`;

export type Nav = "nodes" | "connectors" | "decisions" | "keys" | "login";

type LayoutProps = {
  t: Dict;
  lang: Lang;
  title: string;
  current: Nav;
  /** The path to come back to after switching language. */
  path: string;
  tenant?: string | undefined;
  csrf?: string | undefined;
  children?: Child;
};

export function Layout(p: LayoutProps) {
  const link = (nav: Exclude<Nav, "login">, label: string) => (
    <a href={`/ui/${nav}`} aria-current={p.current === nav ? "page" : undefined}>
      {label}
    </a>
  );
  const other: Lang = p.lang === "es" ? "en" : "es";
  return (
    <html lang={p.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${p.title} · ${p.t.appName}`}</title>
        <style>{CSS}</style>
        <script src="/ui/app.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          {p.t.skip}
        </a>
        <header>
          <span class="brand">{p.t.appName}</span>
          {p.tenant ? (
            <nav aria-label="Main">
              {link("nodes", p.t.nav.nodes)}
              {link("connectors", p.t.nav.connectors)}
              {link("decisions", p.t.nav.decisions)}
              {link("keys", p.t.nav.keys)}
            </nav>
          ) : null}
          <div class="end">
            {p.tenant ? <span>{`${p.t.common.tenant}: ${p.tenant}`}</span> : null}
            <a href={`/ui/lang/${other}?back=${encodeURIComponent(p.path)}`} lang={other} hreflang={other}>
              {other === "es" ? "Español" : "English"}
            </a>
            {p.tenant && p.csrf ? (
              <form method="post" action="/ui/logout">
                <input type="hidden" name={CSRF_FIELD} value={p.csrf} />
                <button type="submit">{p.t.nav.logout}</button>
              </form>
            ) : null}
          </div>
        </header>
        <main id="main" tabindex={-1}>
          <h1>{p.title}</h1>
          {p.children}
        </main>
      </body>
    </html>
  );
}

export function Banner(p: { kind: "ok" | "err"; children?: Child }) {
  return (
    <div class={`banner ${p.kind}`} role={p.kind === "err" ? "alert" : "status"}>
      {p.children}
    </div>
  );
}

export function CsrfField(p: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={p.token} />;
}

/** A table with one header row of column titles; the body rows are the children. */
export function Table(p: { head: string[]; children?: Child }) {
  return (
    <table>
      <thead>
        <tr>
          {p.head.map((h) => (
            <th scope="col">{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>{p.children}</tbody>
    </table>
  );
}
