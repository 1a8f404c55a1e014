import { createApp } from "./app.js";

export { CircuitBreaker } from "./circuit/breaker.js";
export { TenantHome } from "./tenant/home.js";
export default createApp();
