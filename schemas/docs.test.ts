// The examples and schemas embedded in docs/payloads.md are run here, so the page cannot go stale.
// Every ```json block on the page must be preceded by a marker comment saying what it is:
//   <!-- example: telemetry -->                     accepted on .../telemetry/json
//   <!-- example: session -->                       accepted on .../session/json
//   <!-- example: telemetry refused <reason> -->    refused with that DLQ reason
//   <!-- schema: <RecordName> -->                   equal to the registered self-contained schema
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { type AvroRecordName, avroTypes, schemaText } from './avro.js';
import { DEFAULT_LIMITS, parseDeviceSession, parseDeviceTelemetry } from './payload.js';
import { DLQ_REASONS } from './vocabulary.js';

const doc = readFileSync(new URL('../docs/payloads.md', import.meta.url), 'utf8');
// examples are written around 2026-11-25T09:46:40Z
const NOW = 1_795_600_000_000 + 3_600_000;
const ctx = { deviceId: 'dev-1', userId: 'user-1', nowMs: NOW, limits: DEFAULT_LIMITS };

interface Block {
  marker: string | undefined;
  body: string;
  line: number;
}

function jsonBlocks(md: string): Block[] {
  const out: Block[] = [];
  const re = /(?:<!--\s*(.+?)\s*-->\s*\n)?```json\n([\s\S]*?)```/g;
  for (let m = re.exec(md); m !== null; m = re.exec(md)) {
    out.push({ marker: m[1], body: m[2] ?? '', line: md.slice(0, m.index).split('\n').length });
  }
  return out;
}

const ajv = new Ajv({ strict: true, allowUnionTypes: true });
const telemetrySchema = ajv.compile(
  JSON.parse(readFileSync(new URL('./device-telemetry.schema.json', import.meta.url), 'utf8')),
);
const sessionSchema = ajv.compile(
  JSON.parse(readFileSync(new URL('./device-session.schema.json', import.meta.url), 'utf8')),
);

describe('docs/payloads.md', () => {
  const blocks = jsonBlocks(doc);

  it('has examples of each kind, every json block marked', () => {
    expect(blocks.filter((b) => b.marker?.startsWith('example: telemetry')).length).toBeGreaterThanOrEqual(3);
    expect(blocks.filter((b) => b.marker === 'example: session').length).toBeGreaterThanOrEqual(1);
    for (const b of blocks)
      expect(b.marker, `json block at line ${b.line} has no marker comment`).toBeDefined();
  });

  it.each(blocks.map((b) => [`${b.marker} (line ${b.line})`, b] as const))('%s', (_name, b) => {
    const marker = b.marker ?? '';
    const payload = Buffer.from(b.body);
    if (marker === 'example: telemetry') {
      const r = parseDeviceTelemetry('json', payload, ctx);
      expect(r.ok ? 'ok' : r.message).toBe('ok');
      expect(telemetrySchema(JSON.parse(b.body))).toBe(true);
    } else if (marker === 'example: session') {
      const r = parseDeviceSession('json', payload, ctx);
      expect(r.ok ? 'ok' : r.message).toBe('ok');
      expect(sessionSchema(JSON.parse(b.body))).toBe(true);
    } else if (marker.startsWith('example: telemetry refused ')) {
      const reason = marker.slice('example: telemetry refused '.length);
      expect(parseDeviceTelemetry('json', payload, ctx)).toMatchObject({ ok: false, reason });
    } else if (marker.startsWith('schema: ')) {
      const name = marker.slice('schema: '.length) as AvroRecordName;
      expect(name in avroTypes).toBe(true);
      expect(JSON.parse(b.body)).toEqual(JSON.parse(schemaText(name)));
    } else {
      throw new Error(`unknown marker '${marker}'`);
    }
  });

  it('documents every DLQ reason in the reasons table', () => {
    for (const reason of DLQ_REASONS)
      expect(doc, reason).toMatch(new RegExp(`^\\|\\s*\`${reason}\`\\s*\\|`, 'm'));
  });
});
