import { createRequire } from "node:module";
import type { EventEmitter } from "node:events";

/**
 * The slice of ari-client 2.2 the agent uses. Every operation is a documented ARI call
 * (Asterisk's own nicknames from its Swagger declarations), so the agent runs unchanged
 * against Asterisk 20+. ari-client has no type declarations; these describe what it returns.
 */
export interface AriClient extends EventEmitter {
  start(apps: string | string[]): PromiseLike<void>;
  stop(): void;
  channels: {
    answer(p: { channelId: string }): PromiseLike<unknown>;
    play(p: { channelId: string; media: string; playbackId?: string }): PromiseLike<unknown>;
    setChannelVar(p: { channelId: string; variable: string; value: string }): PromiseLike<unknown>;
    continueInDialplan(p: { channelId: string; context: string; extension: string; priority: number }): PromiseLike<unknown>;
    hangup(p: { channelId: string; reason?: string }): PromiseLike<unknown>;
    get(p: { channelId: string }): PromiseLike<AriChannelJson>;
  };
  playbacks: { stop(p: { playbackId: string }): PromiseLike<unknown> };
  applications: { get(p: { applicationName: string }): PromiseLike<{ name: string; channel_ids: string[] }> };
}

/** The Channel model fields the agent reads (trace 01). */
export type AriChannelJson = {
  id: string;
  state?: string;
  dialplan?: { context?: string; exten?: string; priority?: number; app_name?: string; app_data?: string };
};

export type AriEvent = {
  type: string;
  args?: string[];
  channel?: AriChannelJson;
  digit?: string;
  playback?: { id: string; state?: string; target_uri?: string };
};

type AriModule = { connect(url: string, user: string, pass: string): PromiseLike<AriClient> };

// ari-client is CommonJS with no ESM entry: load it through require.
const ari = createRequire(import.meta.url)("ari-client") as AriModule;

export function connectAri(url: string, username: string, password: string): PromiseLike<AriClient> {
  return ari.connect(url, username, password);
}
