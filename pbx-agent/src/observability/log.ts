import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/**
 * JSON lines on stdout. Customer ids are masked by the callers (maskId) before they reach a
 * log call; the redaction below is the second lock for anything that looks like a secret.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { svc: "pbx-agent" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ["key", "password", "authorization", "edgeKey", "*.key", "*.password", "*.authorization", "headers.authorization", "config.edge.key", "config.ari.password"],
        censor: "***",
      },
    },
    destination,
  );
}
