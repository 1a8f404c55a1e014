import { describe, expect, it } from "vitest";
import { connectorConfig, connectorModules } from "../connectors/registry.js";
import { connectorTemplate } from "./connector-template.js";

describe("connectorTemplate", () => {
  it("gives every kind a JSON object naming its required fields, without the common ones", () => {
    for (const m of connectorModules) {
      const t = JSON.parse(connectorTemplate(m.kind)) as Record<string, unknown>;
      expect(typeof t).toBe("object");
      expect(t).not.toHaveProperty("kind");
      expect(t).not.toHaveProperty("cache");
    }
  });
  it("makes the worked examples valid configs as they stand", () => {
    for (const kind of ["webhook", "rest"]) {
      expect(connectorConfig.safeParse({ kind, ...(JSON.parse(connectorTemplate(kind)) as object) }).success).toBe(true);
    }
  });
});
