import { describe, expect, it } from "vitest";
import { connectorConfig, connectorModules } from "./registry.js";

describe("connector registry", () => {
  it("the union and the module list name the same kinds", () => {
    const unionKinds = connectorConfig.options.map((o) => o.shape.kind.value).sort();
    expect(unionKinds).toEqual(connectorModules.map((m) => m.kind).sort());
  });
  it("every CRM kind has its documented default base URL", () => {
    const hub = connectorConfig.parse({ kind: "hubspot", accessToken: "t", idProperty: "customer_id" });
    expect(hub).toMatchObject({ baseUrl: "https://api.hubapi.com", object: "contacts", timeoutMs: 1500, default: "true", notFound: "false" });
    const zoho = connectorConfig.parse({ kind: "zoho", module: "Contacts", idField: "Customer_No", clientId: "c", clientSecret: "s", refreshToken: "r" });
    expect(zoho).toMatchObject({ apiDomain: "https://www.zohoapis.com", accountsUrl: "https://accounts.zoho.com" });
    const sf = connectorConfig.parse({ kind: "salesforce", instanceUrl: "https://x.my.salesforce.com", sobject: "Contact", idField: "Id", auth: { type: "oauth", clientId: "c", clientSecret: "s" } });
    expect(sf).toMatchObject({ apiVersion: "v60.0", auth: { tokenUrl: "https://login.salesforce.com/services/oauth2/token" } });
    const dyn = connectorConfig.parse({ kind: "dynamics365", orgUrl: "https://o.crm.dynamics.com", idField: "x", tokenUrl: "https://login.microsoftonline.com/t/oauth2/v2.0/token", clientId: "c", clientSecret: "s" });
    expect(dyn).toMatchObject({ apiVersion: "v9.2", entitySet: "contacts" });
  });
  it("names that go into a query unquoted are refused when they could change it", () => {
    for (const bad of ["Contact WHERE", "Id--", "a b", "x'"]) {
      expect(connectorConfig.safeParse({ kind: "salesforce", instanceUrl: "https://x.my.salesforce.com", sobject: bad, idField: "Id", auth: { type: "bearer", token: "t" } }).success).toBe(false);
      expect(connectorConfig.safeParse({ kind: "dynamics365", orgUrl: "https://o.crm.dynamics.com", idField: bad, tokenUrl: "https://l/t", clientId: "c", clientSecret: "s" }).success).toBe(false);
    }
  });
});
