/**
 * The node test project imports the worker's app (the OpenAPI document is built from it) but
 * never runs a Durable Object: this stands in for the base class workerd provides.
 */
export class DurableObject<Env = unknown> {
  constructor(
    protected ctx: unknown,
    protected env: Env,
  ) {}
}
