import { z } from 'zod';
import {
  clickhouseEnv,
  commonEnv,
  type EnvOf,
  port,
  positiveInt,
  postgresEnv,
  redisEnv,
} from '../common/config.js';

export const apiEnv = {
  ...commonEnv,
  ...postgresEnv,
  ...redisEnv,
  ...clickhouseEnv,
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  /** per client IP */
  API_RATE_LIMIT_PER_MIN: positiveInt.default(600),
  API_BODY_LIMIT_BYTES: positiveInt.default(1024 * 1024),
  /** what devices are told to connect to */
  MQTT_PUBLIC_URL: z
    .string()
    .refine((s) => /^(mqtts?|wss?):\/\//.test(s), { message: 'an mqtt://, mqtts://, ws:// or wss:// URL' })
    .default('mqtt://127.0.0.1:1883'),
};
export type ApiConfig = EnvOf<typeof apiEnv>;
