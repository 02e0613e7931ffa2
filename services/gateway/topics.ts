/**
 * The MQTT topic scheme (docs/device-client.md). The device id in a topic is only ever compared with the
 * authenticated identity (embedded mode) or trusted because the external broker enforced the same ACL
 * (bridge mode); the payload never names a device.
 *
 *   v1/devices/{deviceId}/telemetry/json   a batch of samples of one session, JSON
 *   v1/devices/{deviceId}/telemetry/avro   the same batch, Avro binary
 *   v1/devices/{deviceId}/session          start / pause / resume / end / lap (JSON or Avro, see below)
 *   v1/devices/{deviceId}/session/avro     session control, Avro binary
 *   v1/devices/{deviceId}/commands         gateway/api -> device (the only topic a device may subscribe to)
 */

export type PayloadFormat = 'json' | 'avro';

export type DeviceTopic =
  | { kind: 'telemetry'; deviceId: string; format: PayloadFormat }
  | { kind: 'session'; deviceId: string; format: PayloadFormat };

const DEVICE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function isValidDeviceId(id: string): boolean {
  return DEVICE_ID.test(id);
}

export const TOPIC_PREFIX = 'v1/devices/';

export const telemetryTopic = (deviceId: string, format: PayloadFormat): string =>
  `${TOPIC_PREFIX}${deviceId}/telemetry/${format}`;
export const sessionTopic = (deviceId: string, format: PayloadFormat = 'json'): string =>
  format === 'json' ? `${TOPIC_PREFIX}${deviceId}/session` : `${TOPIC_PREFIX}${deviceId}/session/avro`;
export const commandTopic = (deviceId: string): string => `${TOPIC_PREFIX}${deviceId}/commands`;

/** The device id a topic is published under, or null when it is not under v1/devices/{id}/. */
export function topicDeviceId(topic: string): string | null {
  if (!topic.startsWith(TOPIC_PREFIX)) return null;
  const end = topic.indexOf('/', TOPIC_PREFIX.length);
  if (end < 0) return null;
  const id = topic.slice(TOPIC_PREFIX.length, end);
  return isValidDeviceId(id) ? id : null;
}

/** Parse a publish topic; null for anything outside the scheme. */
export function parseDeviceTopic(topic: string): DeviceTopic | null {
  const deviceId = topicDeviceId(topic);
  if (deviceId === null) return null;
  const rest = topic.slice(TOPIC_PREFIX.length + deviceId.length + 1);
  switch (rest) {
    case 'telemetry/json':
      return { kind: 'telemetry', deviceId, format: 'json' };
    case 'telemetry/avro':
      return { kind: 'telemetry', deviceId, format: 'avro' };
    case 'session':
    case 'session/json':
      return { kind: 'session', deviceId, format: 'json' };
    case 'session/avro':
      return { kind: 'session', deviceId, format: 'avro' };
    default:
      return null;
  }
}

/** Shared-subscription filters the bridge subscribes with (MQTT 5 `$share/{group}/{filter}`). */
export function bridgeFilters(group: string): string[] {
  // `x/#` also matches `x` itself, so one filter covers `session` and `session/avro`.
  return [`$share/${group}/${TOPIC_PREFIX}+/telemetry/+`, `$share/${group}/${TOPIC_PREFIX}+/session/#`];
}
