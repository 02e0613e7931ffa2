// The command-line options of bench/loadgen/main.ts, apart so that a test can check that the
// callers (scripts/demo.sh, the README's main job) pass only options the load generator knows.
import type { ParseArgsConfig } from 'node:util';

export const LOADGEN_OPTIONS = {
  devices: { type: 'string', default: '10' },
  duration: { type: 'string', default: '60' },
  rate: { type: 'string', default: '1' },
  batch: { type: 'string', default: '1' },
  format: { type: 'string', default: 'json' },
  url: { type: 'string', default: process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883' },
  protocol: { type: 'string', default: '4' },
  artefacts: { type: 'boolean', default: false },
  anonymous: { type: 'boolean', default: false },
  cleanup: { type: 'boolean', default: false },
  out: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];
