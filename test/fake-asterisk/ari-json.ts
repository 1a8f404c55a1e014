// The JSON shapes the fake sends, modelled on what Asterisk 22.10.1 sent in
// ../shared/ari-traces/ (key order included: it is what a byte-level diff of a
// trace and the fake shows first).

export interface CallerIdJson {
  name: string;
  number: string;
}

export interface DialplanJson {
  context: string;
  exten: string;
  priority: number;
  app_name: string;
  app_data: string;
}

export interface ChannelJson {
  id: string;
  name: string;
  state: "Down" | "Ring" | "Ringing" | "Up";
  protocol_id: string;
  caller: CallerIdJson;
  connected: CallerIdJson;
  accountcode: string;
  dialplan: DialplanJson;
  creationtime: string;
  language: string;
}

export type PlaybackState = "queued" | "playing" | "continuing" | "done" | "failed";

export interface PlaybackJson {
  id: string;
  media_uri: string;
  next_media_uri?: string;
  target_uri: string;
  language: string;
  state: PlaybackState;
}

export interface ApplicationJson {
  name: string;
  channel_ids: string[];
  bridge_ids: string[];
  endpoint_ids: string[];
  device_names: string[];
  events_allowed: unknown[];
  events_disallowed: unknown[];
}

/** Every event carries these, after its own fields. */
interface EventTail {
  asterisk_id: string;
  application: string;
}

export type AriEvent =
  | ({ type: "StasisStart"; timestamp: string; args: string[]; channel: ChannelJson } & EventTail)
  | ({ type: "StasisEnd"; timestamp: string; channel: ChannelJson } & EventTail)
  | ({ type: "ChannelStateChange"; timestamp: string; channel: ChannelJson } & EventTail)
  | ({ type: "ChannelDtmfReceived"; timestamp: string; digit: string; duration_ms: number; channel: ChannelJson } & EventTail)
  | ({ cause: number; soft?: boolean; type: "ChannelHangupRequest"; timestamp: string; channel: ChannelJson } & EventTail)
  | ({ type: "ChannelDestroyed"; timestamp: string; cause: number; cause_txt: string; channel: ChannelJson } & EventTail)
  | ({ variable: string; value: string; type: "ChannelVarset"; timestamp: string; channel: ChannelJson } & EventTail)
  | ({ type: "PlaybackStarted"; timestamp: string; playback: PlaybackJson } & EventTail)
  | ({ type: "PlaybackContinuing"; timestamp: string; playback: PlaybackJson } & EventTail)
  | ({ type: "PlaybackFinished"; timestamp: string; playback: PlaybackJson } & EventTail)
  | ({ type: "ApplicationReplaced"; timestamp: string } & EventTail)
  | ({ type: "ApplicationMoveFailed"; timestamp: string; channel: ChannelJson; destination: string; args: string[] } & EventTail);

export type AriEventType = AriEvent["type"];

/** `2026-11-24T23:13:14.816+0000`: Asterisk's format, not ISO's `Z`. */
export function ariTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace("Z", "+0000");
}

export const ARI_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$/;

export const ERRORS = {
  authRequired: { message: "Authentication required" },
  channelNotFound: { message: "Channel not found" },
  channelNotInStasis: { message: "Channel not in Stasis application" },
  playbackNotFound: { message: "Playback not found" },
  applicationNotFound: { message: "Application not found" },
  resourceNotFound: { message: "Resource not found" },
  invalidMethod: { message: "Invalid method" },
} as const;
