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
    /** Since 13.26/16.3: StasisEnd in the channel's app, then StasisStart with `appArgs` (comma-separated) in `app`. */
    move(p: { channelId: string; app: string; appArgs?: string }): PromiseLike<unknown>;
    hangup(p: { channelId: string; reason?: string }): PromiseLike<unknown>;
    get(p: { channelId: string }): PromiseLike<AriChannelJson>;
    getChannelVar(p: { channelId: string; variable: string }): PromiseLike<{ value: string }>;
  };
  playbacks: {
    get(p: { playbackId: string }): PromiseLike<unknown>;
    stop(p: { playbackId: string }): PromiseLike<unknown>;
  };
  asterisk: {
    getGlobalVar(p: { variable: string }): PromiseLike<{ value: string }>;
    setGlobalVar(p: { variable: string; value: string }): PromiseLike<unknown>;
  };
  applications: { get(p: { applicationName: string }): PromiseLike<{ name: string; channel_ids: string[] }> };
}

/** The Channel model fields the agent reads (trace 01). */
export type AriChannelJson = {
  id: string;
  state?: string;
  /** Asterisk's CallerID model: a withheld caller is `number: ""` (name often "Anonymous"). */
  caller?: { name?: string; number?: string };
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

const SWAGGER_NOTICE = /deprecated version of Swagger/;

/**
 * Connects. swagger-client (inside ari-client) `console.log`s a notice on every load of
 * Asterisk's Swagger 1.1 declarations; the agent's stdout carries only JSON lines, so while
 * connecting that one notice goes to `onNotice` instead and any other console output passes.
 */
export async function connectAri(url: string, username: string, password: string, onNotice: (text: string) => void = () => undefined): Promise<AriClient> {
  const original = console.log;
  console.log = (...args: unknown[]) => {
    const text = args.map((a) => (Array.isArray(a) ? a.join(" ") : String(a))).join(" ");
    if (SWAGGER_NOTICE.test(text)) onNotice(text);
    else original.apply(console, args);
  };
  try {
    return await ari.connect(url, username, password);
  } finally {
    console.log = original;
  }
}
