/**
 * Bumped by every write this isolate makes to tenants, keys, connectors, nodes or cache
 * generations. Short-lived copies of D1 rows kept in the isolate carry the epoch they were read
 * at, so a change made here is seen here at once; other isolates see it when their copy expires.
 */
let epoch = 0;
export const localEpoch = () => epoch;
export function changed(): void {
  epoch++;
}
