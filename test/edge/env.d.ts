// The worker's bindings, as `env` from cloudflare:workers / cloudflare:test sees them in tests.
declare namespace Cloudflare {
  type WorkerEnv = import("../../worker/env.js").Env;
  interface Env extends WorkerEnv {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  }
}
