import type { ConnectorConfig } from "../connectors/registry.js";
import { joinUrl } from "../connectors/crm-call.js";

/** The app a tenant (or the operator) registered at the CRM, and the refresh token its consent gave. */
export type Granted = { tokenUrl: string; clientId: string; clientSecret: string; refreshToken: string };

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
  /** The client already stored in the config, offered again so a reconnect needs no retyping. */
  storedClient?: { clientId: string; clientSecret: string } | undefined;
  /** The config with the consent's tokens in the kind's own fields (sealed by the store). */
  apply(granted: Granted): ConnectorConfig;
};

const HUBSPOT_API = "https://api.hubapi.com";
const PIPEDRIVE_API = "https://api.pipedrive.com";
const SALESFORCE_TOKEN = "https://login.salesforce.com/services/oauth2/token";

/** Same host and path up to the last segment: Salesforce and Entra ID serve /authorize beside /token. */
const beside = (tokenUrl: string, last: string) => tokenUrl.replace(/\/token\/?$/, `/${last}`);
/** HubSpot's object types map to scopes crm.objects.<type>.read; tickets and custom objects have their own. */
function hubspotScope(object: string): string {
  if (object === "tickets") return "tickets";
  if (["contacts", "companies", "deals"].includes(object)) return `crm.objects.${object}.read`;
  return "crm.objects.custom.read";
}

/** The flow for a saved connector, or null when its kind has no authorization-code flow. */
export function providerFor(config: ConnectorConfig): Provider | null {
  switch (config.kind) {
    case "hubspot": {
      // The real API answers at api.hubapi.com and consents at app.hubspot.com; any other base
      // (a proxy, a test double) serves both itself.
      const own = config.baseUrl.replace(/\/+$/, "") !== HUBSPOT_API;
      return {
        label: "HubSpot",
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
      const own = config.baseUrl.replace(/\/+$/, "") !== PIPEDRIVE_API;
      const oauthBase = own ? config.baseUrl : "https://oauth.pipedrive.com";
      return {
        label: "Pipedrive",
        authorizeUrl: joinUrl(oauthBase, "/oauth/authorize"),
        tokenUrl: config.oauth?.tokenUrl ?? joinUrl(oauthBase, "/oauth/token"),
        // Pipedrive's scopes are chosen on the app, not in the request.
        pkce: false,
        clientAuth: "basic",
        storedClient: config.oauth,
        apply: (g) => {
          const { apiToken: _dropped, ...rest } = config;
          return { ...rest, oauth: g };
        },
      };
    }
    case "zendesk": {
      const base = config.baseUrl ?? `https://${config.subdomain}.zendesk.com`;
      return {
        label: "Zendesk",
        authorizeUrl: joinUrl(base, "/oauth/authorizations/new"),
        tokenUrl: joinUrl(base, "/oauth/tokens"),
        scope: "read",
        pkce: true,
        clientAuth: "body",
        storedClient: config.oauth,
        apply: (g) => {
          const { email: _e, apiToken: _t, ...rest } = config;
          return { ...rest, oauth: g };
        },
      };
    }
    case "zoho":
      return {
        label: "Zoho CRM",
        authorizeUrl: joinUrl(config.accountsUrl, "/oauth/v2/auth"),
        tokenUrl: joinUrl(config.accountsUrl, "/oauth/v2/token"),
        scope: "ZohoCRM.modules.READ",
        pkce: false,
        clientAuth: "body",
        // offline: a refresh token is issued; consent: issued again on a reconnect.
        extra: { access_type: "offline", prompt: "consent" },
        storedClient: config,
        apply: (g) => ({ ...config, clientId: g.clientId, clientSecret: g.clientSecret, refreshToken: g.refreshToken }),
      };
    case "salesforce": {
      const tokenUrl = config.auth.type === "oauth" ? config.auth.tokenUrl : SALESFORCE_TOKEN;
      return {
        label: "Salesforce",
        authorizeUrl: beside(tokenUrl, "authorize"),
        tokenUrl,
        scope: "api refresh_token",
        pkce: true,
        clientAuth: "body",
        storedClient: config.auth.type === "oauth" ? config.auth : undefined,
        apply: (g) => ({ ...config, auth: { type: "oauth", ...g } }),
      };
    }
    case "dynamics365":
      return {
        label: "Dynamics 365",
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
