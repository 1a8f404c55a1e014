import type { TestProject } from "vitest/node";
import { startFakeCrm } from "../support/fake-crm.js";
import { startFakeCrms } from "../support/fake-crms/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    crmUrl: string;
    /** The fake HubSpot, Salesforce, Zoho, Pipedrive, Zendesk, Freshdesk and Dynamics 365 (test/support/fake-crms). */
    crmsUrl: string;
  }
}

/** Runs in Node before the workerd tests: the fake CRM they reach over real HTTP. */
export default async function setup(project: TestProject) {
  const crm = await startFakeCrm();
  project.provide("crmUrl", crm.url);
  const crms = await startFakeCrms();
  project.provide("crmsUrl", crms.url);
  return async () => {
    await crm.close();
    await crms.close();
  };
}
