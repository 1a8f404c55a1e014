import { randomUUID } from "node:crypto";
import { boundedWait } from "../../../shared/bounded-wait.js";
import type { DialplanTarget } from "../../../shared/destinations-file.js";
import { CALLER_NUMBER_VARIABLE, CallStopped, type CallChannel, type CallStop, type Playback } from "../call/call-channel.js";
import type { AriClient, AriEvent } from "./ari-client.js";

/**
 * Every channel the agent is handling, and the one place WebSocket events are dispatched
 * from: one listener per event type for all calls, looked up by channel or playback id,
 * so no per-call listener is ever left on the client.
 */
export class AriCalls {
  readonly calls = new Map<string, AriCallChannel>();
  readonly playbacks = new Map<string, PlaybackEntry>();
  private readonly prefix = `crmb-${randomUUID().slice(0, 8)}`;
  private seq = 0;

  /**
   * Awaited before every command on a call. The agent makes it prove, after any stall long enough
   * for a peer to have found us down, that the call is still ours (see agent.ts `renewLease`).
   */
  fence: () => Promise<void> = () => Promise.resolve();
  /** When the agent last had to renew a lapsed lease: a call older than that may have a peer's move queued on it. */
  renewedAt = Number.NEGATIVE_INFINITY;
  /** Whether the channel is in our app right now (GET /applications/{app}); asked only before routing a call that lived through a lapse. */
  inOurApp: (id: string) => Promise<boolean> = () => Promise.resolve(true);

  constructor(
    readonly client: () => AriClient | null,
    readonly now: () => number,
  ) {}

  nextPlaybackId(): string {
    return `${this.prefix}-${(this.seq++).toString(36)}`;
  }

  /**
   * `callerNumber`: StasisStart's `channel.caller.number`. `ownApp` false: a channel still in a dead
   * peer's app (a refused move), which a listing of our own app does not show.
   */
  open(id: string, callerNumber = "", ownApp = true): AriCallChannel {
    const ch = new AriCallChannel(id, this, callerNumber, ownApp);
    this.calls.set(id, ch);
    return ch;
  }

  /** After the call flow is over: settles its playbacks and forgets it. */
  close(id: string): void {
    const ch = this.calls.get(id);
    if (!ch) return;
    this.calls.delete(id);
    ch.dispose();
  }

  /**
   * Trace 03: events sent while the WebSocket was down are never replayed, so a PlaybackFinished
   * lost in the gap would leave its call waiting for a prompt that ended long ago. After a
   * reconnect each playback we still think is playing is asked for: 404 means it is over.
   * `olderThanMs`: only those not heard of for that long (the periodic check that also covers a
   * failed resync). Returns how many were found over.
   */
  async resyncPlaybacks(client: AriClient, olderThanMs = 0): Promise<number> {
    const at = this.now();
    const over = await Promise.all(
      [...this.playbacks].map(async ([id, p]) => {
        if (at - p.checkedAt < olderThanMs) return false;
        p.checkedAt = at;
        // Before Asterisk has answered the play request a 404 only means "not created yet" (the
        // reconnect can beat a slow 201): ask once it has. false: the request failed, already over.
        if (!(await p.acked)) return false;
        try {
          await bounded(client.playbacks.get({ playbackId: id }), "playbacks.get");
          return false;
        } catch (err) {
          // Anything but a 404 (a timeout, a 500) proves nothing: the playback is left as it is.
          if (!/not found/i.test(err instanceof Error ? err.message : String(err))) return false;
          if (this.playbacks.get(id) !== p) return false;
          this.playbacks.delete(id);
          p.done();
          return true;
        }
      }),
    );
    return over.filter(Boolean).length;
  }

  dispatch(ev: AriEvent): void {
    switch (ev.type) {
      case "ChannelDtmfReceived":
        if (ev.channel && ev.digit) this.calls.get(ev.channel.id)?.dtmf(ev.digit);
        return;
      case "PlaybackFinished": {
        const id = ev.playback?.id;
        const p = id ? this.playbacks.get(id) : undefined;
        if (p && id) {
          this.playbacks.delete(id);
          p.done();
        }
        return;
      }
      // Trace 02: the hang-up arrives as ChannelHangupRequest, then PlaybackFinished "failed",
      // then StasisEnd; any of the three ends the call (ChannelDestroyed if subscribed).
      case "ChannelHangupRequest":
      case "StasisEnd":
      case "ChannelDestroyed":
        if (ev.channel) this.calls.get(ev.channel.id)?.leave();
        return;
    }
  }
}

/**
 * A prompt we are waiting on. `acked`: settles true once Asterisk answered the play request (from
 * then on a 404 on GET /playbacks/{id} means it is over), false if the request failed.
 * `checkedAt`: when it was started or last asked about.
 */
type PlaybackEntry = { callId: string; done: () => void; checkedAt: number; acked: Promise<boolean> };

/** ari-client sets no timeout on REST calls; a request lost with a dying connection must not hold a call forever. */
export const ARI_REST_TIMEOUT_MS = 5000;

export function bounded<T>(p: PromiseLike<T>, what: string): Promise<T> {
  const asError = (e: unknown) => Promise.reject(e instanceof Error ? e : new Error(String(e)));
  return boundedWait(Promise.resolve(p).then(undefined, asError), { ms: ARI_REST_TIMEOUT_MS }, () => new Error(`ari_timeout: ${what}`));
}


export class AriCallChannel implements CallChannel {
  private readonly ac = new AbortController();
  readonly signal = this.ac.signal;
  private readonly listeners = new Set<(digit: string, at: number) => void>();
  private readonly myPlaybacks = new Set<string>();
  private routed = false;
  /**
   * The channel has left our app (StasisEnd: our own `continue`, a hang-up, or a peer that took it
   * over while we were frozen): ARI would still take our commands by channel id, and a `continue`
   * would route a call someone else is serving, so none is sent any more.
   */
  private left = false;
  /** Found in our app after a (re)start or a drop, never announced: a peer that found us down may be moving it. */
  adopted = false;
  /** Keys pressed before the first collection listens (while the call is being answered). */
  private typedAhead: Array<{ digit: string; at: number }> | null = [];
  readonly openedAt: number;
  private callerNumberRead: Promise<string> | null = null;

  constructor(
    readonly id: string,
    private readonly calls: AriCalls,
    private readonly stasisCallerNumber = "",
    readonly ownApp = true,
  ) {
    this.openedAt = calls.now();
  }

  /** StasisEnd, a hang-up, or our app's listing without it: no command for this channel from now on. */
  leave(): void {
    this.left = true;
    this.end({ code: "hangup" });
  }

  private async client(): Promise<AriClient> {
    await this.calls.fence();
    if (this.left) throw new CallStopped({ code: "hangup" });
    const c = this.calls.client();
    if (!c) throw new Error("ari_disconnected");
    return c;
  }

  dtmf(digit: string): void {
    if (this.routed) return;
    const at = this.calls.now();
    if (this.typedAhead) return void this.typedAhead.push({ digit, at });
    for (const l of [...this.listeners]) l(digit, at);
  }

  /** Aborts the call's work; after routing, end-of-Stasis events are expected and change nothing. */
  end(stop: CallStop): void {
    if (this.signal.aborted) return;
    if (this.routed && stop.code === "hangup") return;
    this.ac.abort(stop);
  }

  dispose(): void {
    this.listeners.clear();
    this.typedAhead = null;
    for (const id of this.myPlaybacks) {
      const p = this.calls.playbacks.get(id);
      this.calls.playbacks.delete(id);
      p?.done();
    }
    this.myPlaybacks.clear();
  }

  markRouted(): void {
    this.routed = true;
  }

  async answer(): Promise<void> {
    await this.client().then((c) => bounded(c.channels.answer({ channelId: this.id }), "answer"));
  }

  callerNumber(): Promise<string> {
    // One ARI round trip, only for nodes that identify by number; unset (404) or empty means
    // the dialplan left it to CALLERID(num), which StasisStart already carried.
    this.callerNumberRead ??= (async () => {
      const c = this.calls.client();
      if (!c) return this.stasisCallerNumber;
      try {
        const v = await bounded(c.channels.getChannelVar({ channelId: this.id, variable: CALLER_NUMBER_VARIABLE }), "getChannelVar");
        return v.value?.trim() ? v.value : this.stasisCallerNumber;
      } catch {
        return this.stasisCallerNumber;
      }
    })();
    return this.callerNumberRead;
  }

  play(media: string): Playback {
    const playbackId = this.calls.nextPlaybackId();
    let resolve!: () => void;
    const ended = new Promise<void>((r) => (resolve = r));
    const done = () => {
      this.myPlaybacks.delete(playbackId);
      this.calls.playbacks.delete(playbackId);
      resolve();
    };
    // Registered before the request: PlaybackFinished may beat the 201 (trace 04, a missing sound).
    let ack!: (ok: boolean) => void;
    const entry: PlaybackEntry = { callId: this.id, done, checkedAt: this.calls.now(), acked: new Promise<boolean>((r) => (ack = r)) };
    this.calls.playbacks.set(playbackId, entry);
    this.myPlaybacks.add(playbackId);
    const failed = () => {
      ack(false);
      done();
    };
    this.client().then((c) => bounded(c.channels.play({ channelId: this.id, media, playbackId }), "play")).then(() => ack(true), failed);
    let finished = false;
    void ended.then(() => (finished = true));
    return {
      ended,
      stop: () => {
        if (finished) return;
        const c = this.calls.client();
        // 404 when it already finished: nothing to do.
        if (c) Promise.resolve(c.playbacks.stop({ playbackId })).then(undefined, () => undefined);
      },
    };
  }

  onDtmf(listener: (digit: string, at: number) => void): () => void {
    this.listeners.add(listener);
    // A caller who types as soon as the line opens (before answer and prompt are through) has
    // those keys counted by the first collection, as barge-in, once it has started.
    const early = this.typedAhead;
    this.typedAhead = null;
    if (early?.length) {
      queueMicrotask(() => {
        for (const d of early) if (this.listeners.has(listener)) listener(d.digit, d.at);
      });
    }
    return () => void this.listeners.delete(listener);
  }

  async setVariable(name: string, value: string): Promise<void> {
    await this.client().then((c) => bounded(c.channels.setChannelVar({ channelId: this.id, variable: name, value }), "setChannelVar"));
  }

  async continueInDialplan(t: DialplanTarget): Promise<void> {
    const c = await this.routingClient();
    await bounded(c.channels.continueInDialplan({ channelId: this.id, context: t.context, extension: t.extension, priority: t.priority }), "continue");
  }

  async hangup(): Promise<void> {
    const c = await this.routingClient();
    await bounded(c.channels.hangup({ channelId: this.id }), "hangup");
  }

  /**
   * A peer that found us down may have queued a move on this channel behind a prompt; the move then
   * ran before the variables we just set (one queue per channel), so a listing asked now shows where
   * the channel is, whichever of the StasisEnd and the variables' answers reached us first.
   */
  private async routingClient(): Promise<AriClient> {
    const c = await this.client();
    if (this.ownApp && (this.adopted || this.openedAt < this.calls.renewedAt) && !(await this.calls.inOurApp(this.id))) this.leave();
    if (this.left) throw new CallStopped({ code: "hangup" });
    return c;
  }
}
