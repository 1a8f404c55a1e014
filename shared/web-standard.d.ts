// The web-standard globals shared/ uses, typed for tsconfig.shared.json alone: shared/ runs in
// both Workers and Node, so it gets neither runtime's types (a Node or Workers-only API there fails
// `npm run typecheck`). Add a member here only if both runtimes implement it to the WHATWG spec.
// Other programs exclude this file: they type the same globals from their own runtime.
interface ReadableStreamDefaultReader<R> {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: R }>;
  cancel(reason?: unknown): Promise<void>;
}
interface ReadableStream<R> {
  getReader(): ReadableStreamDefaultReader<R>;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
declare class URLSearchParams {
  constructor(init?: Record<string, string> | string);
  toString(): string;
}
// shared/bounded-wait.ts: HTML's timers (a number in Workers, a Timeout object in Node: opaque here)
// and DOM's AbortSignal, as much of them as a deadline needs.
interface AbortSignal {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}
declare function setTimeout(handler: () => void, timeout?: number): unknown;
declare function clearTimeout(id: unknown): void;
