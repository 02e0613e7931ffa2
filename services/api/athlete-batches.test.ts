import { describe, expect, it } from 'vitest';
import { athletesOf } from './athlete-batches.js';

describe('athletesOf', () => {
  it('gives each keyed athlete once, in first-seen order, and skips records without a key', () => {
    const k = (s: string) => Buffer.from(s, 'utf8');
    const users = athletesOf([
      { key: k('b') },
      { key: null },
      { key: k('a') },
      { key: Buffer.alloc(0) },
      { key: k('b') },
    ]);
    expect(users).toEqual(['b', 'a']);
  });
});
