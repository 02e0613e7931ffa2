import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clickhouseErrorCode, isClickHouseRetryable } from './errors.js';
import { WORKER_DLQ_REASONS } from './publisher-kafka.js';

// ClickHouse 18.16 answers with plain errors carrying "Code: NN" in the text (no typed error).
const ch = (code: number, text: string) =>
  new Error(`Code: ${code}, e.displayText() = DB::Exception: ${text}, e.what() = DB::Exception`);

describe('ClickHouse error classification', () => {
  it('reads the server code from 18.16 texts, typed errors and causes', () => {
    expect(clickhouseErrorCode(ch(395, "Value passed to 'throwIf' function is non zero"))).toBe(395);
    expect(clickhouseErrorCode(Object.assign(new Error('x'), { code: '27' }))).toBe(27);
    expect(clickhouseErrorCode(new Error('wrapped', { cause: ch(252, 'Too many parts') }))).toBe(252);
    expect(clickhouseErrorCode(new Error('socket hang up'))).toBeUndefined();
  });

  it('retries overload, timeouts, network trouble and environment errors', () => {
    for (const [code, text] of [
      [252, 'Too many parts (300). Merges are processing significantly slower than inserts'],
      [241, 'Memory limit (for query) exceeded'],
      [159, 'Timeout exceeded: elapsed 30 seconds'],
      [202, 'Too many simultaneous queries'],
      [209, 'Timeout exceeded while reading from socket'],
      [210, 'Connection refused'],
      [60, 'Table db.samples does not exist'],
      [81, 'Database db does not exist'],
      [516, 'default: Authentication failed'],
    ] as const) {
      expect(isClickHouseRetryable(ch(code, text)), `${code}`).toBe(true);
    }
    for (const e of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' }),
      new Error('socket hang up'),
      new Error('Timeout error.'),
      // an answer without a code cannot be blamed on the records
      new Error('502 Bad Gateway'),
    ]) {
      expect(isClickHouseRetryable(e), e.message).toBe(true);
    }
  });

  it('does not retry what the server refuses for the data itself', () => {
    for (const [code, text] of [
      [395, "Value passed to 'throwIf' function is non zero"],
      [27, 'Cannot parse input: expected { before: x'],
      [6, 'Cannot parse string as UInt8'],
      [53, 'Type mismatch'],
      [117, 'Unknown field found while parsing JSONEachRow format: x'],
      [33, 'Cannot read all data. Bytes read: 3. Bytes expected: 8.'],
    ] as const) {
      expect(isClickHouseRetryable(ch(code, text)), `${code}`).toBe(false);
    }
  });
});

describe('worker DLQ reasons', () => {
  it('are documented in the reasons table of docs/payloads.md', () => {
    const doc = readFileSync(new URL('../../docs/payloads.md', import.meta.url), 'utf8');
    for (const reason of WORKER_DLQ_REASONS) {
      expect(doc, reason).toMatch(new RegExp(`^\\|\\s*\`${reason}\`\\s*\\|\\s*worker\\s*\\|`, 'm'));
    }
  });
});
