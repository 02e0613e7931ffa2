import { describe, expect, it } from 'vitest';
import { InOrderRelease } from './in-order.js';

describe('InOrderRelease', () => {
  it('releases in the order added, whatever the order they settle in', () => {
    const out: number[] = [];
    const q = new InOrderRelease<number>((n) => out.push(n));
    const settle = [1, 2, 3, 4].map((n) => q.add(n));
    settle[2]!(true);
    settle[1]!(true);
    expect(out).toEqual([]);
    settle[0]!(true);
    expect(out).toEqual([1, 2, 3]);
    settle[3]!(true);
    expect(out).toEqual([1, 2, 3, 4]);
    expect(q.pending).toBe(0);
  });

  it('a dropped item holds nothing up and is never released', () => {
    const out: number[] = [];
    const q = new InOrderRelease<number>((n) => out.push(n));
    const settle = [1, 2, 3].map((n) => q.add(n));
    settle[1]!(true);
    settle[0]!(false);
    expect(out).toEqual([2]);
    settle[0]!(true); // settled once only
    settle[2]!(true);
    expect(out).toEqual([2, 3]);
  });

  it('after clear, earlier handles do nothing and new items go on alone', () => {
    const out: number[] = [];
    const q = new InOrderRelease<number>((n) => out.push(n));
    const old = q.add(1);
    q.add(2);
    q.clear();
    expect(q.pending).toBe(0);
    const next = q.add(3);
    old(true);
    next(true);
    expect(out).toEqual([3]);
  });

  it('keeps order across a long run with one slow item at a time', () => {
    const out: number[] = [];
    const q = new InOrderRelease<number>((n) => out.push(n));
    const n = 20_000;
    const settle = Array.from({ length: n }, (_, i) => q.add(i));
    // every 100th item settles last in its block of 100
    for (let b = 0; b < n; b += 100) {
      for (let i = b + 1; i < b + 100; i++) settle[i]!(true);
      settle[b]!(true);
    }
    expect(out).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(q.pending).toBe(0);
  });
});
