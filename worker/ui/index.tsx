import type { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../env.js";
import { statusOf } from "../http/errors.js";
import { oauthCallbackRoute, oauthRoutes } from "../oauth-connect/routes.js";
import { serviceContext } from "../services/context.js";
import { DomainError } from "../services/errors.js";
import { touchKey } from "../services/keys.js";
import { readForm, type UiContext, type UiEnv } from "./context.js";
import { csrfMatches } from "./csrf.js";
import { ENHANCE_JS } from "./enhance.js";
import { dict, LANG_COOKIE, pickLang } from "./i18n.js";
import { Layout } from "./layout.js";
import { log } from "../observability/log.js";
import { connectorPages } from "./pages/connectors.js";
import { decisionPages } from "./pages/decisions.js";
import { csrfRefused, notFoundPage } from "./pages/errors.js";
import { keyPages } from "./pages/keys.js";
import { loginPages, logoutRoute } from "./pages/login.js";
import { nodePages } from "./pages/nodes.js";
import { endSession, readSession, SESSION_COOKIE } from "./session.js";

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function errorPage(err: Error, c: UiContext) {
  const t = c.get("t") ?? dict("en");
  const known = err instanceof DomainError;
  // Another tenant's object and a missing one look alike: the page's own 404.
  if (known && err.code === "not_found" && c.get("session")) return notFoundPage(c);
  if (!known) log({ event: "error", msg: "unhandled", requestId: c.get("requestId"), where: "ui", error: err.name });
  const lang = c.get("lang") ?? "en";
  // The services' messages are English: the Spanish page says what kind of refusal it was instead.
  const title = !known ? t.common.internal : lang === "en" ? err.message : err.code === "not_found" ? t.common.notFound : t.common.refused;
  return c.html(
    <Layout t={t} lang={lang} title={title} current="nodes" path="/ui/nodes">
      <p>
        <a href="/ui/nodes">{t.nav.nodes}</a>
      </p>
    </Layout>,
    known ? statusOf(err) : 500,
  );
}

/** The admin pages (SPEC 8), server-rendered, under /ui. */
export function createUi() {
  const ui = new Hono<UiEnv>();
  ui.onError(errorPage);
  ui.use(async (c, next) => {
    const lang = pickLang(getCookie(c, LANG_COOKIE), c.req.header("accept-language"));
    c.set("lang", lang);
    c.set("t", dict(lang));
    await next();
    c.header("Cache-Control", "no-store");
    c.header("Content-Security-Policy", CSP);
    c.header("X-Frame-Options", "DENY");
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    c.header("Vary", "Accept-Language, Cookie");
  });

  ui.get("/", (c) => c.redirect("/ui/nodes", 303));
  ui.get("/app.js", (c) => c.body(ENHANCE_JS, 200, { "Content-Type": "text/javascript; charset=utf-8" }));
  // The switch only sets a preference, so a plain link (GET) is enough; `back` may only name one of these pages.
  ui.get("/lang/:lang", (c) => {
    const lang = c.req.param("lang");
    if (lang === "en" || lang === "es") setCookie(c, LANG_COOKIE, lang, { path: "/ui", sameSite: "Lax", secure: true, httpOnly: true, maxAge: 365 * 86400 });
    const back = c.req.query("back");
    return c.redirect(back && /^\/ui\/[A-Za-z0-9/_-]*(\?[A-Za-z0-9=&%._-]*)?$/.test(back) ? back : "/ui/nodes", 303);
  });
  loginPages(ui);
  oauthCallbackRoute(ui);

  ui.use(async (c, next) => {
    const session = await readSession(c);
    if (!session) {
      // A cookie that no longer opens a session (ended, its key revoked, expired): the login page says so,
      // so an admin whose save bounced knows why the form is gone.
      const ended = getCookie(c, SESSION_COOKIE) !== undefined;
      if (ended) await endSession(c);
      const q = new URLSearchParams();
      if (c.req.method === "GET") q.set("next", new URL(c.req.url).pathname);
      if (ended) q.set("ended", "1");
      return c.redirect(q.size ? `/ui/login?${q}` : "/ui/login", 303);
    }
    c.set("session", session);
    c.set("principal", { kind: "key", ...session.key });
    c.set("svc", serviceContext(c));
    touchKey(c.get("svc"), session.key);
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && !(await csrfMatches(session.csrf, await readForm(c)))) return csrfRefused(c);
    await next();
  });
  logoutRoute(ui);
  nodePages(ui);
  connectorPages(ui);
  oauthRoutes(ui);
  decisionPages(ui);
  keyPages(ui);
  ui.all("*", (c) => notFoundPage(c));
  return ui;
}

export function uiRoutes(app: OpenAPIHono<AppEnv>) {
  app.route("/ui", createUi());
}
