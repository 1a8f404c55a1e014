// Public entry point of the fake Asterisk for tests, benchmarks and the CLI.
export { startFakeAsterisk } from "./server.js";
export type { FakeAsterisk, FakeAsteriskOptions, PlaceCallOptions, RecordedCommand, RecordedEvent, RestOverride } from "./server.js";
export type { ChannelPhase } from "./pbx.js";
export type { AriEvent, AriEventType, ChannelJson, PlaybackJson } from "./ari-json.js";
export { connectRawApp } from "./raw-client.js";
export type { RawAriApp, RawReply } from "./raw-client.js";
export { startControlServer } from "./control.js";
export type { ControlServer } from "./control.js";
