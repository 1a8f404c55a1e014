import type { ConnectorConfig } from "../connectors/registry.js";
import { serviceContext } from "../services/context.js";
import { readForm, tenantOf, type UiApp, type UiContext } from "../ui/context.js";
import { TextField } from "../ui/fields.js";
import { Banner, CsrfField, Layout } from "../ui/layout.js";
import { ConnectError, finishConnect, operatorClient, redirectUri, startConnect, type ConnectFailure } from "./flow.js";
import { APP_OUTSIDE_CONFIG, consentLabel, crmOwnTokenUrl, providerFor } from "./providers.js";

const FAILURES: readonly ConnectFailure[] = ["denied", "expired", "refused", "no_client", "crm_error"];
const connectorPage = (id: string, outcome: string) => `/ui/connectors/${encodeURIComponent(id)}?oauth=${outcome}`;

/** A page that moves on by itself (meta refresh: the CSP allows no inline script) with a link as fallback. */
function Hop(p: { c: UiContext; to: string; title: string; link: string }) {
  const t = p.c.get("t");
  return (
    <html lang={p.c.get("lang")}>
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="refresh" content={`0;url=${p.to}`} />
        <meta name="referrer" content="no-referrer" />
        <title>{`${p.title} · ${t.appName}`}</title>
      </head>
      <body>
        <p>{p.title}</p>
        <p>
          <a href={p.to}>{p.link}</a>
        </p>
      </body>
    </html>
  );
}

/**
 * The CRM sends the browser back here from its own site, so the session cookie (SameSite=Strict)
 * is not sent. This page only hops to /ui/oauth/finish from our own origin, where it is; the
 * state is checked there, against that session.
 */
export function oauthCallbackRoute(ui: UiApp) {
  ui.get("/oauth/callback", (c) => {
    const q = new URLSearchParams();
    // accounts-server: Zoho's data centre of the consenting user (checked in finishConnect).
    for (const name of ["state", "code", "error", "accounts-server"]) {
      const v = c.req.query(name);
      if (v !== undefined) q.set(name, v.slice(0, 4096));
    }
    const t = c.get("t").oauth;
    return c.html(<Hop c={c} to={`/ui/oauth/finish?${q}`} title={t.back} link={t.back} />);
  });
}

/**
 * Starts the consent for a saved connector with the client the form typed (or the stored or the
 * operator's one): the hop to the CRM, or back to the connector page saying why not.
 */
export async function startConsent(c: UiContext, id: string, form: Record<string, string | undefined>): Promise<Response> {
  let to: { url: string; label: string };
  try {
    to = await startConnect(serviceContext(c), {
      tenant: tenantOf(c),
      sessionId: c.get("session").id,
      connectorId: id,
      clientId: form.oauthClientId,
      clientSecret: form.oauthClientSecret,
      requestUrl: c.req.url,
    });
  } catch (e) {
    if (e instanceof ConnectError) return c.redirect(connectorPage(id, e.reason), 303);
    throw e;
  }
  // Not a redirect: CSP form-action 'self' would stop a form's redirect to the CRM's origin.
  const t = c.get("t").oauth;
  return c.html(<Hop c={c} to={to.url} title={t.going(to.label)} link={t.continue(to.label)} />);
}

/** Starting a consent from a connector's page, and finishing it after the callback's hop. */
export function oauthRoutes(ui: UiApp) {
  ui.post("/connectors/:connector/oauth", async (c) => startConsent(c, c.req.param("connector"), await readForm(c)));

  ui.get("/oauth/finish", async (c) => {
    const q = (name: string) => c.req.query(name);
    try {
      const id = await finishConnect(serviceContext(c), { tenant: tenantOf(c), sessionId: c.get("session").id, state: q("state"), code: q("code"), error: q("error"), accountsServer: q("accounts-server") });
      return c.redirect(connectorPage(id, "connected"), 303);
    } catch (e) {
      if (!(e instanceof ConnectError)) throw e;
      if (e.connectorId) return c.redirect(connectorPage(e.connectorId, e.reason), 303);
      const t = c.get("t");
      return c.html(
        <Layout t={t} lang={c.get("lang")} title={t.oauth.title("CRM")} current="connectors" path="/ui/connectors" tenant={tenantOf(c)} csrf={c.get("session").csrf}>
          <Banner kind="err">{t.oauth.failed[e.reason]}</Banner>
          <p>
            <a href="/ui/connectors">{t.nav.connectors}</a>
          </p>
        </Layout>,
        400,
      );
    }
  });
}

/**
 * On a new connector's form of a kind with the consent flow: "Save and connect", and for the kinds
 * whose own settings do not name the OAuth app, its client id and secret.
 */
export function SaveAndConnect(p: { c: UiContext; kind: string }) {
  const label = consentLabel(p.kind);
  if (!label) return null;
  const { c } = p;
  const t = c.get("t").oauth;
  const operator = operatorClient(c.env, p.kind) !== null;
  return (
    <fieldset>
      <legend>{t.title(label)}</legend>
      <p class="hint">{APP_OUTSIDE_CONFIG.has(p.kind) ? t.saveAndConnectHint : t.saveAndConnectOwnApp}</p>
      <p class="hint">
        {t.redirect} <code>{redirectUri(c.env, c.req.url)}</code>
      </p>
      {APP_OUTSIDE_CONFIG.has(p.kind) ? (
        <div class="row">
          <TextField name="oauthClientId" label={t.clientId} value="" errors={{}} autocomplete="off" hint={operator ? t.operatorApp : undefined} />
          <TextField name="oauthClientSecret" type="password" label={t.clientSecret} value="" errors={{}} autocomplete="new-password" hint={operator ? t.operatorApp : undefined} />
        </div>
      ) : null}
      <button type="submit" name="_then" value="connect" class="secondary">
        {t.saveAndConnect(label)}
      </button>
    </fieldset>
  );
}

/** The "Connect with …" card of a saved connector's page; nothing for kinds without the flow. */
export function ConnectBlock(p: { c: UiContext; id: string; config: ConnectorConfig }) {
  const provider = providerFor(p.config);
  if (!provider) return null;
  const { c } = p;
  const t = c.get("t").oauth;
  const outcome = c.req.query("oauth");
  const operator = crmOwnTokenUrl(p.config.kind, provider.tokenUrl) && operatorClient(c.env, p.config.kind) !== null;
  const storedId = provider.storedClient?.clientId ?? "";
  return (
    <section class="card" aria-labelledby="oauth-title">
      <h2 id="oauth-title" style="margin-top:0">
        {t.title(provider.label)}
      </h2>
      {outcome === "connected" ? <Banner kind="ok">{t.connected(provider.label)}</Banner> : null}
      {outcome && (FAILURES as readonly string[]).includes(outcome) ? <Banner kind="err">{t.failed[outcome as ConnectFailure]}</Banner> : null}
      <p class="hint">{t.hint}</p>
      <p class="hint">
        {t.redirect} <code>{redirectUri(c.env, c.req.url)}</code>
      </p>
      <form method="post" action={`/ui/connectors/${encodeURIComponent(p.id)}/oauth`}>
        <CsrfField token={c.get("session").csrf} />
        <div class="row">
          {/* Not clientId/clientSecret: Zoho's and Dynamics 365's own form on the same page has those, and two controls with one id leave a label naming the wrong one. */}
          <TextField name="oauthClientId" label={t.clientId} value={storedId} errors={{}} autocomplete="off" hint={operator ? t.operatorApp : undefined} />
          <TextField name="oauthClientSecret" type="password" label={t.clientSecret} value="" errors={{}} autocomplete="new-password" hint={storedId ? t.clientSecretKept : operator ? t.operatorApp : undefined} />
        </div>
        <button type="submit">{t.button(provider.label)}</button>
      </form>
    </section>
  );
}
