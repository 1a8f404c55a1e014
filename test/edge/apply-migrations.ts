import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Runs inside workerd before each test file: the real D1 binding gets the real migrations.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
