import type { ConnectorConfig } from "../connectors/registry.js";
import { joinUrl } from "../connectors/crm-call.js";

/** The app a tenant (or the operator) registered at the CRM, and the refresh token its consent gave. */
export type Granted = { tokenUrl: string; clientId: string; clientSecret: string; refreshToken: string };
/**
 * Where the consent says the account lives, beside the tokens: Zoho's and Pipedrive's token replies
 * carry `api_domain`, Salesforce's `instance_url` (already checked to be https URLs, or http in tests).
 */
export type Located = { apiDomain?: string | undefined; instanceUrl?: string | undefined };

/**
 * How one CRM kind runs the authorization-code flow (docs/connectors.md, "Connect with …",
 * cites each CRM's documentation). Endpoints follow from the saved config, so a connector
 * pointed at a data centre, a My Domain or a test double consents there too.
 */
export type Provider = {
  label: string;
  authorizeUrl: string;
  tokenUrl: string;
  scope?: string | undefined;
  /** Sends code_challenge (S256) and code_verifier: only where the CRM documents PKCE. */
  pkce: boolean;
  /** Pipedrive authenticates the client with HTTP Basic at the token endpoint. */
  clientAuth: "body" | "basic";
  extra?: Record<string, string>;
  /** Sent with the code exchange too (Zendesk's documented request repeats the scope). */
  tokenParams?: Record<string, string>;
  /**
   * Zoho sends the browser back with `accounts-server`, the accounts host of the user's data
   * centre, where the code must be redeemed. Only Zoho's own hosts (or the configured one) are
   * taken: the query comes through the browser and must not send the code and secret elsewhere.
   * Null when the value is not acceptable.
   */
  tokenUrlFrom?(accountsServer: string | undefined): string | null;
  /** The client already stored in the config, offered again so a reconnect needs no retyping. */
  storedClient?: { clientId: string; clientSecret: string } | undefined;
  /** The config with the consent's tokens in the kind's own fields (sealed by the store). */
  apply(granted: Granted, located: Located): ConnectorConfig;
};

const HUBSPOT_API = "https://api.hubapi.com";
const PIPEDRIVE_OAUTH = "https://oauth.pipedrive.com";
/** Zoho's accounts servers, one per data centre (Zoho CRM API docs, "Multi DC Support"). */
const ZOHO_ACCOUNTS = /^https:\/\/accounts\.(zoho\.(com|eu|in|com\.au|com\.cn|jp|sa|uk)|zohocloud\.ca)$/;
const origin = (url: string) => new URL(url).origin;

/**
 * The token endpoints each CRM itself runs, by host. The operator's app (OAUTH_<KIND>_CLIENT_*) is
 * shared by every tenant, so its secret goes only there: never to a tenant's proxy, test double or
 * own server, which a tenant admin picks by setting baseUrl, accountsUrl, instanceUrl or tokenUrl.
 */
const CRM_TOKEN_HOSTS: Readonly<Record<string, RegExp>> = {
  hubspot: /^api\.hubapi\.com$/,
  pipedrive: /^oauth\.pipedrive\.com$/,
  zendesk: /^[a-z0-9][a-z0-9-]{0,62}\.zendesk\.com$/,
  zoho: /^accounts\.(zoho\.(com|eu|in|com\.au|com\.cn|jp|sa|uk)|zohocloud\.ca)$/,
  // login/test for production and sandboxes, and every org's My Domain (…my.salesforce.com, sandboxes included).
  salesforce: /^((login|test)\.salesforce\.com|([a-z0-9-]+\.)+my\.salesforce\.com)$/,
  // Entra ID in the global, US government and China clouds.
  dynamics365: /^login\.(microsoftonline\.(com|us)|chinacloudapi\.cn|partner\.microsoftonline\.cn)$/,
};

/** Whether a token URL is the CRM's own (https, default port, one of its hosts): only there may the operator's app be used. */
export function crmOwnTokenUrl(kind: string, url: string): boolean {
  const hosts = Object.hasOwn(CRM_TOKEN_HOSTS, kind) ? CRM_TOKEN_HOSTS[kind]! : null;
  if (!hosts) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === "https:" && u.port === "" && u.username === "" && u.password === "" && hosts.test(u.hostname);
}

/** Same host and path up to the last segment: Salesforce and Entra ID serve /authorize beside /token. */
const beside = (tokenUrl: string, last: string) => tokenUrl.replace(/\/token\/?$/, `/${last}`);
/** HubSpot's object types map to scopes crm.objects.<type>.read; tickets and custom objects have their own. */
function hubspotScope(object: string): string {
  if (object === "tickets") return "tickets";
  if (["contacts", "companies", "deals"].includes(object)) return `crm.objects.${object}.read`;
  return "crm.objects.custom.read";
}

const LABELS: Readonly<Record<string, string>> = {
  hubspot: "HubSpot",
  pipedrive: "Pipedrive",
  zendesk: "Zendesk",
  zoho: "Zoho CRM",
  salesforce: "Salesforce",
  dynamics365: "Dynamics 365",
};
/** The CRM's name on "Connect with …" for a kind with the consent flow, else null. */
export const consentLabel = (kind: string): string | null => (Object.hasOwn(LABELS, kind) ? LABELS[kind]! : null);
/** Kinds whose settings hold no OAuth app until a consent: the new-connector form asks for one beside "Save and connect". */
export const APP_OUTSIDE_CONFIG: ReadonlySet<string> = new Set(["hubspot", "pipedrive", "zendesk"]);

/** The flow for a saved connector, or null when its kind has no authorization-code flow. */
export function providerFor(config: ConnectorConfig): Provider | null {
  switch (config.kind) {
    case "hubspot": {
      // The real API answers at api.hubapi.com and consents at app.hubspot.com; any other base
      // (a proxy, a test double) serves both itself.
      const own = config.baseUrl.replace(/\/+$/, "") !== HUBSPOT_API;
      return {
        label: LABELS.hubspot!,
        authorizeUrl: own ? joinUrl(config.baseUrl, "/oauth/authorize") : "https://app.hubspot.com/oauth/authorize",
        tokenUrl: config.oauth?.tokenUrl ?? (own ? joinUrl(config.baseUrl, "/oauth/v1/token") : `${HUBSPOT_API}/oauth/v1/token`),
        scope: hubspotScope(config.object),
        pkce: false,
        clientAuth: "body",
        storedClient: config.oauth,
        apply: (g) => {
          const { accessToken: _dropped, ...rest } = config;
          return { ...rest, oauth: g };
        },
      };
    }
    case "pipedrive": {
      // The consent and the token endpoint are at oauth.pipedrive.com whatever API host the account
      // uses (api.pipedrive.com or its own <company>.pipedrive.com); any other base is a test double.
      const pipedriveHost = /(^|\.)pipedrive\.com$/.test(new URL(config.baseUrl).hostname);
      const oauthBase = config.oauth ? origin(config.oauth.tokenUrl) : pipedriveHost ? PIPEDRIVE_OAUTH : origin(config.baseUrl);
      return {
        label: LABELS.pipedrive!,
        authorizeUrl: joinUrl(oauthBase, "/oauth/authorize"),
        tokenUrl: config.oauth?.tokenUrl ?? joinUrl(oauthBase, "/oauth/token"),
        // Pipedrive's scopes are chosen on the app, not in the request; no PKCE is documented.
        pkce: false,
        clientAuth: "basic",
        storedClient: config.oauth,
        apply: (g, at) => {
          const { apiToken: _dropped, ...rest } = config;
          // OAuth calls go to the company's api_domain (Pipedrive, "OAuth authorization", step 3).
          return { ...rest, ...(at.apiDomain ? { baseUrl: at.apiDomain } : {}), oauth: g };
        },
      };
    }
    case "zendesk": {
      const base = config.baseUrl ?? `https://${config.subdomain}.zendesk.com`;
      return {
        label: LABELS.zendesk!,
        authorizeUrl: joinUrl(base, "/oauth/authorizations/new"),
        tokenUrl: joinUrl(base, "/oauth/tokens"),
        scope: "read",
        tokenParams: { scope: "read" },
        pkce: true,
        clientAuth: "body",
        storedClient: config.oauth,
        apply: (g) => {
          const { email: _e, apiToken: _t, ...rest } = config;
          return { ...rest, oauth: g };
        },
      };
    }
    case "zoho": {
      const configured = origin(config.accountsUrl);
      return {
        label: LABELS.zoho!,
        authorizeUrl: joinUrl(config.accountsUrl, "/oauth/v2/auth"),
        tokenUrl: joinUrl(config.accountsUrl, "/oauth/v2/token"),
        scope: "ZohoCRM.modules.READ",
        pkce: false,
        clientAuth: "body",
        // offline: a refresh token is issued; consent: issued again on a reconnect.
        extra: { access_type: "offline", prompt: "consent" },
        tokenUrlFrom: (server) => {
          if (server === undefined) return joinUrl(config.accountsUrl, "/oauth/v2/token");
          const s = server.replace(/\/+$/, "");
          return s === configured || ZOHO_ACCOUNTS.test(s) ? `${s}/oauth/v2/token` : null;
        },
        storedClient: config,
        apply: (g, at) => ({
          ...config,
          // The data centre the user consented in: its accounts server refreshes, its api_domain answers.
          accountsUrl: origin(g.tokenUrl),
          ...(at.apiDomain ? { apiDomain: at.apiDomain } : {}),
          clientId: g.clientId,
          clientSecret: g.clientSecret,
          refreshToken: g.refreshToken,
        }),
      };
    }
    case "salesforce": {
      // The org's My Domain serves /services/oauth2/* for production and sandboxes alike, where
      // login.salesforce.com would miss a sandbox.
      const tokenUrl = config.auth.type === "oauth" ? config.auth.tokenUrl : joinUrl(origin(config.instanceUrl), "/services/oauth2/token");
      return {
        label: LABELS.salesforce!,
        authorizeUrl: beside(tokenUrl, "authorize"),
        tokenUrl,
        scope: "api refresh_token",
        pkce: true,
        clientAuth: "body",
        storedClient: config.auth.type === "oauth" ? config.auth : undefined,
        // instance_url names the org's API host; a stale one typed in the form is corrected.
        apply: (g, at) => ({ ...config, ...(at.instanceUrl ? { instanceUrl: at.instanceUrl } : {}), auth: { type: "oauth", ...g } }),
      };
    }
    case "dynamics365":
      return {
        label: LABELS.dynamics365!,
        authorizeUrl: beside(config.tokenUrl, "authorize"),
        tokenUrl: config.tokenUrl,
        // Delegated access to the org as the consenting user; offline_access issues the refresh token.
        scope: `${new URL(config.orgUrl).origin}/user_impersonation offline_access`,
        pkce: true,
        clientAuth: "body",
        storedClient: config,
        apply: (g) => ({ ...config, clientId: g.clientId, clientSecret: g.clientSecret, refreshToken: g.refreshToken }),
      };
    default:
      return null;
  }
}
