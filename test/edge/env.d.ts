// `env` from cloudflare:workers / cloudflare:test is Cloudflare.Env: the worker's generated
// bindings (worker/worker-configuration.d.ts) plus what only the tests bind.
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  }
}
