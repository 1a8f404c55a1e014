import { createApp } from "./app.js";

export { CircuitBreaker } from "./circuit/breaker.js";
export default createApp();
