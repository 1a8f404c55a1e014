import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations("./migrations"),
                ADMIN_TOKEN: "test-operator-token-0123456789",
                ENCRYPTION_KEY: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                ALLOW_PRIVATE_CRM_URLS: "true",
                LOCAL_MODE: "true",
              },
            },
          })),
        ],
        test: {
          name: "edge",
          // Generating /openapi.json and first calls into a cold workerd take seconds on a loaded machine.
          testTimeout: 20_000,
          include: ["worker/**/*.test.ts", "shared/**/*.test.ts", "test/edge/**/*.test.ts"],
          setupFiles: ["./test/edge/apply-migrations.ts"],
          globalSetup: ["./test/edge/global-setup.ts"],
        },
      },
      {
        test: {
          name: "node",
          // worker/app.ts reaches Durable Object classes; Node has no "cloudflare:workers" to give them a base.
          alias: { "cloudflare:workers": new URL("./test/support/cloudflare-workers-stub.ts", import.meta.url).pathname },
          environment: "node",
          include: ["pbx-agent/**/*.test.ts", "test/agent/**/*.test.ts", "test/fake-asterisk/**/*.test.ts", "test/e2e/**/*.test.ts", "scripts/**/*.test.ts", "bench/**/*.test.ts", "test/ui/**/*.test.ts", "test/rules/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
