// MQTT 5 Content Type against the topic suffix. MQTT 3.1.1 has no content type, so the topic suffix
// (`/json`, `/avro`) is what chooses the decoder, always. An MQTT 5 client MAY also send a content
// type; when it does, it must say the same thing as the suffix, so that a device that mislabels its
// payload hears about it (`content_type_mismatch`) instead of getting a confusing parse error.
import type { PayloadFormat, Rejection } from './payload.js';

/** Accepted content types per format (compared case-insensitively, parameters ignored). */
export const CONTENT_TYPES: Readonly<Record<PayloadFormat, readonly string[]>> = {
  json: ['application/json'],
  avro: ['application/avro', 'avro/binary', 'application/vnd.apache.avro+binary'],
};

/** undefined when `contentType` is absent or agrees with the topic's format; a Rejection otherwise. */
export function checkContentType(
  format: PayloadFormat,
  contentType: string | undefined,
): Rejection | undefined {
  if (contentType === undefined || contentType === '') return undefined;
  const semi = contentType.indexOf(';');
  const mime = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (CONTENT_TYPES[format].includes(mime)) return undefined;
  return {
    ok: false,
    reason: 'content_type_mismatch',
    message: `content type '${contentType}' does not match the topic's /${format} suffix`,
  };
}
