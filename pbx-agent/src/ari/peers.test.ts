import { describe, expect, it } from "vitest";
import { heartbeatVariable, PeerWatch } from "./peers.js";

describe("PeerWatch", () => {
  it("a peer is down once its variable has not moved for deadMs, and back when it moves", () => {
    const w = new PeerWatch(["crm-bridge-b"], 3000, 0);
    expect(w.observe("crm-bridge-b", "1", 500)).toBeNull();
    expect(w.observe("crm-bridge-b", "1", 3400)).toBeNull();
    expect(w.observe("crm-bridge-b", "1", 3501)).toBe("down");
    expect(w.isDown("crm-bridge-b")).toBe(true);
    expect(w.observe("crm-bridge-b", "1", 9000)).toBeNull(); // reported once
    expect(w.observe("crm-bridge-b", "2", 9100)).toBe("up");
    expect(w.isDown("crm-bridge-b")).toBe(false);
  });

  it("a reading that failed proves nothing; a peer never seen counts from our start", () => {
    const w = new PeerWatch(["b"], 1000, 100);
    expect(w.observe("b", null, 5000)).toBeNull();
    expect(w.isDown("b")).toBe(false);
    expect(w.observe("b", "", 1101)).toBeNull(); // first reading: "" is a change from nothing seen
    expect(w.observe("b", "", 2200)).toBe("down");
    expect(w.observe("other", "1", 9999)).toBeNull();
  });

  it("one global variable per app, a valid dialplan variable name", () => {
    expect(heartbeatVariable("crm-bridge-a")).toBe("CRM_BRIDGE_ALIVE_CRM_BRIDGE_A");
  });
});
