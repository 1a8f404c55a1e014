// Our own minimal Swagger 1.2 description of the slice of ARI the agent uses.
// ari-client (through swagger-client 2.0.26) fetches `resources.json`, then one
// API declaration per listed resource, and builds `client.<resource>.<nickname>`
// from them; it also looks every WebSocket event up by `type` in the models of
// the `events` declaration and throws on a type it does not find. The fake's
// router is built from the same OPERATIONS table, so what ari-client can call
// and what the fake answers cannot drift apart.

import type { AriEventType } from "./ari-json.js";

export type ResourceName = "asterisk" | "channels" | "playbacks" | "applications" | "events";

interface Param {
  name: string;
  paramType: "path" | "query";
  dataType: string;
  required: boolean;
  allowMultiple?: boolean;
}

export interface Operation {
  resource: ResourceName;
  /** ARI path template below `/ari`, e.g. `/channels/{channelId}/play`. */
  path: string;
  httpMethod: "GET" | "POST" | "DELETE";
  nickname: string;
  responseClass: string;
  parameters: Param[];
}

const path = (name: string): Param => ({ name, paramType: "path", dataType: "string", required: true });
const query = (name: string, dataType = "string", required = false, allowMultiple = false): Param => ({
  name,
  paramType: "query",
  dataType,
  required,
  ...(allowMultiple ? { allowMultiple } : {}),
});

const playParams = [query("media", "string", true, true), query("lang"), query("offsetms", "int"), query("skipms", "int")];

export const OPERATIONS: Operation[] = [
  { resource: "asterisk", path: "/asterisk/info", httpMethod: "GET", nickname: "getInfo", responseClass: "AsteriskInfo", parameters: [query("only", "string", false, true)] },
  { resource: "asterisk", path: "/asterisk/variable", httpMethod: "GET", nickname: "getGlobalVar", responseClass: "Variable", parameters: [query("variable", "string", true)] },
  { resource: "asterisk", path: "/asterisk/variable", httpMethod: "POST", nickname: "setGlobalVar", responseClass: "void", parameters: [query("variable", "string", true), query("value")] },
  { resource: "asterisk", path: "/asterisk/ping", httpMethod: "GET", nickname: "ping", responseClass: "AsteriskPing", parameters: [] },
  { resource: "channels", path: "/channels", httpMethod: "GET", nickname: "list", responseClass: "List[Channel]", parameters: [] },
  { resource: "channels", path: "/channels/{channelId}", httpMethod: "GET", nickname: "get", responseClass: "Channel", parameters: [path("channelId")] },
  { resource: "channels", path: "/channels/{channelId}", httpMethod: "DELETE", nickname: "hangup", responseClass: "void", parameters: [path("channelId"), query("reason_code"), query("reason")] },
  { resource: "channels", path: "/channels/{channelId}/continue", httpMethod: "POST", nickname: "continueInDialplan", responseClass: "void", parameters: [path("channelId"), query("context"), query("extension"), query("priority", "int"), query("label")] },
  { resource: "channels", path: "/channels/{channelId}/move", httpMethod: "POST", nickname: "move", responseClass: "void", parameters: [path("channelId"), query("app", "string", true), query("appArgs")] },
  { resource: "channels", path: "/channels/{channelId}/answer", httpMethod: "POST", nickname: "answer", responseClass: "void", parameters: [path("channelId")] },
  { resource: "channels", path: "/channels/{channelId}/play", httpMethod: "POST", nickname: "play", responseClass: "Playback", parameters: [path("channelId"), ...playParams, query("playbackId")] },
  { resource: "channels", path: "/channels/{channelId}/play/{playbackId}", httpMethod: "POST", nickname: "playWithId", responseClass: "Playback", parameters: [path("channelId"), path("playbackId"), ...playParams] },
  { resource: "channels", path: "/channels/{channelId}/variable", httpMethod: "GET", nickname: "getChannelVar", responseClass: "Variable", parameters: [path("channelId"), query("variable", "string", true)] },
  { resource: "channels", path: "/channels/{channelId}/variable", httpMethod: "POST", nickname: "setChannelVar", responseClass: "void", parameters: [path("channelId"), query("variable", "string", true), query("value")] },
  { resource: "playbacks", path: "/playbacks/{playbackId}", httpMethod: "GET", nickname: "get", responseClass: "Playback", parameters: [path("playbackId")] },
  { resource: "playbacks", path: "/playbacks/{playbackId}", httpMethod: "DELETE", nickname: "stop", responseClass: "void", parameters: [path("playbackId")] },
  { resource: "applications", path: "/applications", httpMethod: "GET", nickname: "list", responseClass: "List[Application]", parameters: [] },
  { resource: "applications", path: "/applications/{applicationName}", httpMethod: "GET", nickname: "get", responseClass: "Application", parameters: [path("applicationName")] },
];

type Props = Record<string, { type: string; required?: boolean; items?: { type: string } }>;

const str = { type: "string", required: true };
const optStr = { type: "string" };
const int = { type: "int", required: true };
const strList = { type: "List[string]", required: true };

const MODELS: Record<Exclude<ResourceName, "events">, Record<string, Props>> = {
  asterisk: {
    AsteriskInfo: { build: { type: "object" }, system: { type: "object" }, config: { type: "object" }, status: { type: "object" } },
    AsteriskPing: { asterisk_id: str, ping: str, timestamp: str },
    Variable: { value: str },
  },
  channels: {
    CallerID: { name: str, number: str },
    DialplanCEP: { context: str, exten: str, priority: { type: "long", required: true }, app_name: str, app_data: str },
    Channel: {
      id: str,
      name: str,
      state: str,
      protocol_id: str,
      caller: { type: "CallerID", required: true },
      connected: { type: "CallerID", required: true },
      accountcode: str,
      dialplan: { type: "DialplanCEP", required: true },
      creationtime: { type: "Date", required: true },
      language: str,
    },
    Variable: { value: str },
  },
  playbacks: {
    Playback: { id: str, media_uri: str, next_media_uri: optStr, target_uri: str, language: optStr, state: str },
  },
  applications: {
    Application: { name: str, channel_ids: strList, bridge_ids: strList, endpoint_ids: strList, device_names: strList, events_allowed: { type: "List[object]", required: true }, events_disallowed: { type: "List[object]", required: true } },
  },
};

const eventBase: Props = { type: str, application: str, timestamp: { type: "Date" }, asterisk_id: optStr };
const channelProp = { channel: { type: "Channel", required: true } };

/** One model per event type the fake can send: ari-client crashes on an unknown one. */
export const EVENT_MODELS: Record<AriEventType, Props> = {
  StasisStart: { args: strList, ...channelProp, replace_channel: { type: "Channel" } },
  StasisEnd: channelProp,
  ChannelStateChange: channelProp,
  ChannelDtmfReceived: { digit: str, duration_ms: int, ...channelProp },
  ChannelHangupRequest: { cause: { type: "int" }, soft: { type: "boolean" }, ...channelProp },
  ChannelDestroyed: { cause: int, cause_txt: str, ...channelProp },
  ChannelVarset: { variable: str, value: str, channel: { type: "Channel" } },
  PlaybackStarted: { playback: { type: "Playback", required: true } },
  PlaybackContinuing: { playback: { type: "Playback", required: true } },
  PlaybackFinished: { playback: { type: "Playback", required: true } },
  ApplicationReplaced: {},
  ApplicationMoveFailed: { ...channelProp, destination: str, args: strList },
};

function toModel(id: string, props: Props): object {
  const required = Object.entries(props).filter(([, p]) => p.required).map(([name]) => name);
  const properties = Object.fromEntries(Object.entries(props).map(([name, p]) => [name, { type: p.type }]));
  return { id, properties, ...(required.length ? { required } : {}) };
}

export const RESOURCES: ResourceName[] = ["asterisk", "channels", "playbacks", "applications", "events"];

export function resourceListing(basePath: string): object {
  return {
    apiVersion: "fake-crm-bridge",
    // What Asterisk declares: swagger-client then prints "This API is using a deprecated version of Swagger!" on stdout at every connect.
    swaggerVersion: "1.1",
    basePath,
    // `.{format}` matters: swagger-client names the resource by the last path
    // segment minus `.{format}`; `channels.json` would become `client["channels.json"]`.
    apis: RESOURCES.map((name) => ({ path: `/api-docs/${name}.{format}`, description: `${name} (fake)` })),
  };
}

export function apiDeclaration(resource: ResourceName, basePath: string): object {
  const ops = OPERATIONS.filter((o) => o.resource === resource);
  const byPath = new Map<string, Operation[]>();
  for (const op of ops) byPath.set(op.path, [...(byPath.get(op.path) ?? []), op]);
  const models: Record<string, object> = {};
  if (resource === "events") {
    models.Event = toModel("Event", eventBase);
    for (const [type, props] of Object.entries(EVENT_MODELS)) models[type] = toModel(type, { ...eventBase, ...props });
  } else {
    for (const [id, props] of Object.entries(MODELS[resource])) models[id] = toModel(id, props);
  }
  return {
    apiVersion: "fake-crm-bridge",
    swaggerVersion: "1.1",
    basePath,
    resourcePath: `/api-docs/${resource}.{format}`,
    apis: [...byPath.entries()].map(([p, list]) => ({
      path: p,
      operations: list.map((o) => ({
        httpMethod: o.httpMethod,
        nickname: o.nickname,
        responseClass: o.responseClass,
        parameters: o.parameters,
      })),
    })),
    models,
  };
}

/** Matches a request path (below `/ari`) against the operation table. */
export function matchOperation(method: string, pathname: string): { op: Operation; params: Record<string, string> } | "method" | undefined {
  const segments = pathname.split("/").filter(Boolean);
  let pathMatched = false;
  for (const op of OPERATIONS) {
    const template = op.path.split("/").filter(Boolean);
    if (template.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = template.every((t, i) => {
      const seg = segments[i] ?? "";
      if (t.startsWith("{")) {
        params[t.slice(1, -1)] = decodeURIComponent(seg);
        return true;
      }
      return t === seg;
    });
    if (!ok) continue;
    pathMatched = true;
    if (op.httpMethod === method) return { op, params };
  }
  return pathMatched ? "method" : undefined;
}
