import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout, one logger per service with a `service` binding. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    name: `fitstream-${service}`,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
