import { describe, expect, test } from 'vitest';
import { retryWithBackoff } from './retry.js';

describe('retryWithBackoff', () => {
  test('retries until it resolves, doubling the wait up to the cap, and returns the value', async () => {
    let calls = 0;
    const waits: number[] = [];
    const v = await retryWithBackoff(
      async () => {
        if (++calls < 6) throw new Error(`fail ${calls}`);
        return 'done';
      },
      { initialMs: 1, maxMs: 8, beforeWait: (_e, ms) => void waits.push(ms) },
    );
    expect(v).toBe('done');
    expect(calls).toBe(6);
    expect(waits).toEqual([1, 2, 4, 8, 8]);
  });

  test('an error it gives up on is thrown at once, the same error', async () => {
    const fatal = new Error('fatal');
    let calls = 0;
    const waits: number[] = [];
    await expect(
      retryWithBackoff(
        async () => {
          calls++;
          throw calls < 3 ? new Error('again') : fatal;
        },
        { initialMs: 1, maxMs: 4, giveUp: (e) => e === fatal, beforeWait: (_e, ms) => void waits.push(ms) },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(3);
    expect(waits).toEqual([1, 2]);
  });

  test('beforeWait is awaited before the next attempt', async () => {
    const log: string[] = [];
    let calls = 0;
    await retryWithBackoff(
      async () => {
        log.push(`try ${++calls}`);
        if (calls < 3) throw new Error('x');
      },
      {
        initialMs: 1,
        maxMs: 1,
        beforeWait: async () => {
          await new Promise((r) => setTimeout(r, 5));
          log.push('beat');
        },
      },
    );
    expect(log).toEqual(['try 1', 'beat', 'try 2', 'beat', 'try 3']);
  });
});
