import type { TestProject } from "vitest/node";
import { startFakeCrm } from "../support/fake-crm.js";

declare module "vitest" {
  export interface ProvidedContext {
    crmUrl: string;
  }
}

/** Runs in Node before the workerd tests: the fake CRM they reach over real HTTP. */
export default async function setup(project: TestProject) {
  const crm = await startFakeCrm();
  project.provide("crmUrl", crm.url);
  return () => crm.close();
}
