// The format of ../shared/ari-traces/*.jsonl, used both for the recorded
// Asterisk traffic and for what the fake produces when a trace is replayed
// against it, so one contract suite can judge both.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export type TraceLine =
  | { t_ms?: number; dir: "event"; app: string; event: Record<string, unknown> }
  | { t_ms?: number; dir: "rest"; app?: string; method: string; path: string; status: number; body: unknown }
  | { t_ms?: number; dir: "note"; text: string };

export type Transcript = TraceLine[];
export type EventLine = Extract<TraceLine, { dir: "event" }>;
export type RestLine = Extract<TraceLine, { dir: "rest" }>;

export const TRACE_NAMES = [
  "01-barge-in-and-continue",
  "02-caller-hangs-up-mid-prompt",
  "03-app-websocket-drop-and-reconnect",
  "04-errors",
] as const;
export type TraceName = (typeof TRACE_NAMES)[number];

export const TRACE_DIR = fileURLToPath(new URL("../../../shared/ari-traces/", import.meta.url));

export function loadTrace(name: TraceName): Transcript {
  return readFileSync(`${TRACE_DIR}${name}.jsonl`, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as TraceLine);
}

export const eventsOf = (t: Transcript): EventLine[] => t.filter((l): l is EventLine => l.dir === "event");
export const restOf = (t: Transcript): RestLine[] => t.filter((l): l is RestLine => l.dir === "rest");

const CHANNEL_ID = /\b\d{9,}\.\d+\b/g;
const LOCAL_SEQ = /-[0-9a-f]{8};/g;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$/;

/**
 * Replaces what legitimately differs between two runs of the same scenario:
 * channel ids (numbered by first appearance), the Local channel sequence
 * number, timestamps and t_ms. Everything else must match byte for byte.
 */
export function normalize(t: Transcript): unknown[] {
  const ids = new Map<string, string>();
  const idOf = (raw: string): string => {
    let sym = ids.get(raw);
    if (!sym) {
      sym = `<chan${ids.size + 1}>`;
      ids.set(raw, sym);
    }
    return sym;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      if (TIMESTAMP.test(v)) return "<timestamp>";
      return v.replace(CHANNEL_ID, idOf).replace(LOCAL_SEQ, "-<seq>;");
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return t.map((line) => {
    const { t_ms: _t, ...rest } = line;
    return walk(rest);
  });
}
