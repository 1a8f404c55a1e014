/**
 * Liveness of the other agents on one Asterisk. Each agent has its own Stasis app; ARI shows
 * no difference between an app whose WebSocket is attached and one whose agent died (trace 03:
 * the app and its channels stay), so every agent bumps an Asterisk global variable while it is
 * connected, and a peer whose variable has not moved for `deadMs` is taken to be down.
 */
export function heartbeatVariable(app: string): string {
  return `CRM_BRIDGE_ALIVE_${app.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

type Seen = { value: string | null; changedAt: number; down: boolean };

export class PeerWatch {
  private readonly seen = new Map<string, Seen>();

  constructor(
    readonly apps: string[],
    private readonly deadMs: number,
    startedAt: number,
  ) {
    // A peer never seen beating counts from our own start.
    for (const app of apps) this.seen.set(app, { value: null, changedAt: startedAt, down: false });
  }

  /**
   * Records one reading of a peer's variable (null: could not be read, which proves nothing).
   * Returns "down" on the reading that finds it dead, "up" on the one that finds it back, else null.
   */
  observe(app: string, value: string | null, at: number): "down" | "up" | null {
    const s = this.seen.get(app);
    if (!s || value === null) return null;
    if (value !== s.value) {
      const wasDown = s.down;
      s.value = value;
      s.changedAt = at;
      s.down = false;
      return wasDown ? "up" : null;
    }
    if (!s.down && at - s.changedAt > this.deadMs) {
      s.down = true;
      return "down";
    }
    return null;
  }

  isDown(app: string): boolean {
    return this.seen.get(app)?.down ?? false;
  }
}
