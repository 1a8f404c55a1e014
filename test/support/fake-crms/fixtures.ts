import { CREDS } from "./credentials.js";

/**
 * Per-CRM fixture factories for the connector contract suite: a connector config pointed at
 * the fake CRM for a base URL, and where that CRM's native record keeps the facts the rules
 * read (plan, payment status).
 */
export interface CrmFixture {
  kind: string;
  /** Tokens come from an OAuth endpoint, so a refused token is refreshed and retried once. */
  oauth: boolean;
  config(base: string): Record<string, unknown>;
  planPath: string;
  paymentPath: string;
  /** Dot paths of the config holding secrets; GET must show "***" there. */
  secretPaths: string[];
  /**
   * The CRM's throttling reply (the fake's `throttled`) says nothing of when to come back — no
   * Retry-After, no rate-limit reset — so the worker pauses for its default. Otherwise the reply
   * asks for 1 s.
   */
  throttleUnstated?: true;
}

export const crmFixtures: Record<string, CrmFixture> = {
  hubspot: {
    kind: "hubspot",
    oauth: false,
    config: (base) => ({ kind: "hubspot", baseUrl: base, accessToken: CREDS.hubspot.accessToken, idProperty: "customer_id" }),
    planPath: "properties.plan",
    paymentPath: "properties.payment_status",
    secretPaths: ["accessToken"],
  },
  salesforce: {
    kind: "salesforce",
    oauth: true,
    config: (base) => ({
      kind: "salesforce",
      instanceUrl: base,
      sobject: "Contact",
      idField: "Customer_Number__c",
      auth: { type: "oauth", tokenUrl: `${base}/services/oauth2/token`, clientId: CREDS.salesforce.clientId, clientSecret: CREDS.salesforce.clientSecret },
    }),
    planPath: "Plan__c",
    paymentPath: "Payment_Status__c",
    secretPaths: ["auth.clientSecret"],
    throttleUnstated: true,
  },
  zoho: {
    kind: "zoho",
    oauth: true,
    config: (base) => ({
      kind: "zoho",
      apiDomain: base,
      accountsUrl: base,
      module: "Contacts",
      idField: "Customer_No",
      clientId: CREDS.zoho.clientId,
      clientSecret: CREDS.zoho.clientSecret,
      refreshToken: CREDS.zoho.refreshToken,
    }),
    planPath: "Plan",
    paymentPath: "Payment_Status",
    secretPaths: ["clientSecret", "refreshToken"],
    throttleUnstated: true,
  },
  pipedrive: {
    kind: "pipedrive",
    oauth: false,
    config: (base) => ({ kind: "pipedrive", baseUrl: base, apiToken: CREDS.pipedrive.apiToken, field: CREDS.pipedrive.idField }),
    planPath: `custom_fields.${CREDS.pipedrive.planField}`,
    paymentPath: `custom_fields.${CREDS.pipedrive.paymentField}`,
    secretPaths: ["apiToken"],
  },
  zendesk: {
    kind: "zendesk",
    oauth: false,
    config: (base) => ({ kind: "zendesk", subdomain: "example", baseUrl: base, email: CREDS.zendesk.email, apiToken: CREDS.zendesk.apiToken, field: "customer_no" }),
    planPath: "user_fields.plan",
    paymentPath: "user_fields.payment_status",
    secretPaths: ["apiToken"],
  },
  freshdesk: {
    kind: "freshdesk",
    oauth: false,
    config: (base) => ({ kind: "freshdesk", domain: "example", baseUrl: base, apiKey: CREDS.freshdesk.apiKey, field: "customer_no" }),
    planPath: "custom_fields.plan",
    paymentPath: "custom_fields.payment_status",
    secretPaths: ["apiKey"],
  },
  dynamics365: {
    kind: "dynamics365",
    oauth: true,
    config: (base) => ({
      kind: "dynamics365",
      orgUrl: base,
      idField: "new_customerno",
      tokenUrl: `${base}/00000000-0000-0000-0000-0000000000aa/oauth2/v2.0/token`,
      clientId: CREDS.dynamics365.clientId,
      clientSecret: CREDS.dynamics365.clientSecret,
    }),
    planPath: "new_plan",
    paymentPath: "new_paymentstatus",
    secretPaths: ["clientSecret"],
  },
};
