import { failedAuthLimited } from "../../http/limits.js";
import { verifyKey } from "../../services/keys.js";
import type { UiApp, UiContext } from "../context.js";
import { readForm } from "../context.js";
import { loginCsrfMatches, loginCsrfToken } from "../csrf.js";
import { controlId } from "../fields.js";
import { Banner, CsrfField, Layout } from "../layout.js";
import { endSession, startSession } from "../session.js";

/** Only paths of these pages may be a post-login target: never another origin. */
export function safeNext(next: string | undefined): string {
  return next && /^\/ui\/[A-Za-z0-9/_-]*$/.test(next) && !next.startsWith("/ui/login") ? next : "/ui/nodes";
}

function LoginPage(p: { c: UiContext; error?: string; notice?: string | undefined; next: string }) {
  const t = p.c.get("t");
  const id = controlId("key");
  return (
    <Layout t={t} lang={p.c.get("lang")} title={t.login.title} current="login" path={`/ui/login?next=${encodeURIComponent(p.next)}`}>
      <div class="card" style="max-width:32rem">
        {p.error ? <Banner kind="err">{p.error}</Banner> : p.notice ? <Banner kind="err">{p.notice}</Banner> : null}
        <form method="post" action={`/ui/login?next=${encodeURIComponent(p.next)}`}>
          <CsrfField token={loginCsrfToken(p.c)} />
          <div class="field">
            <label for={id}>{t.login.key}</label>
            <input
              id={id}
              name="key"
              type="password"
              required
              autocomplete="current-password"
              aria-invalid={p.error ? "true" : undefined}
              aria-describedby={`${id}-hint`}
            />
            <p class="hint" id={`${id}-hint`}>
              {t.login.hint}
            </p>
          </div>
          <button type="submit">{t.login.submit}</button>
        </form>
      </div>
    </Layout>
  );
}

export function loginPages(ui: UiApp) {
  ui.get("/login", (c) => c.html(<LoginPage c={c} next={safeNext(c.req.query("next"))} notice={c.req.query("ended") ? c.get("t").login.ended : undefined} />));

  ui.post("/login", async (c) => {
    const t = c.get("t");
    const next = safeNext(c.req.query("next"));
    const form = await readForm(c);
    if (!(await loginCsrfMatches(c, form))) return c.html(<LoginPage c={c} error={t.login.expired} next={next} />, 403);
    const raw = (form.key ?? "").trim();
    const key = raw ? await verifyKey(c.env, raw) : null;
    if (!key || key.role !== "admin") {
      // One answer for every key that cannot sign in (unknown, wrong, revoked, agent), so this form
      // tells nothing about a key; each miss counts against this client and that key like the API's.
      if (await failedAuthLimited(c, raw)) return c.html(<LoginPage c={c} error={t.login.throttled} next={next} />, 429);
      return c.html(<LoginPage c={c} error={t.login.invalid} next={next} />, 401);
    }
    await startSession(c, raw, key);
    return c.redirect(next, 303);
  });
}

/** Mounted behind the session middleware: a POST with the session's CSRF token, so no link or image can log anyone out. */
export function logoutRoute(ui: UiApp) {
  ui.post("/logout", async (c) => {
    await endSession(c, c.get("session"));
    return c.redirect("/ui/login", 303);
  });
}
