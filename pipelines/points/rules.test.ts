import { describe, expect, test } from 'vitest';
import { activityPoints, type PointsRules, rulesProblem } from './rules.js';

const rules: PointsRules = {
  sports: [
    {
      sport: 'walking',
      per_km: 12,
      per_minute: 0,
      per_activity: 0,
      min_distance_m: 500,
      min_moving_s: 0,
      max_points: 300,
    },
    { sport: 'cycling', per_km: 3, per_minute: 0, per_activity: 5, min_distance_m: 1000, min_moving_s: 0 },
    {
      sport: 'strength',
      per_km: 0,
      per_minute: 1.5,
      per_activity: 0,
      min_distance_m: 0,
      min_moving_s: 600,
      max_points: 120,
    },
  ],
};

describe('activityPoints', () => {
  test('a walking km is worth more than a cycling km', () => {
    expect(activityPoints(rules, { sport: 'walking', distance_m: 10_000, moving_s: 7200 })).toBe(120);
    expect(activityPoints(rules, { sport: 'cycling', distance_m: 10_000, moving_s: 1200 })).toBe(35);
  });
  test('minimums score 0, the cap bounds', () => {
    expect(activityPoints(rules, { sport: 'walking', distance_m: 499, moving_s: 600 })).toBe(0);
    expect(activityPoints(rules, { sport: 'walking', distance_m: 500, moving_s: 600 })).toBe(6);
    expect(activityPoints(rules, { sport: 'walking', distance_m: 40_000, moving_s: 36_000 })).toBe(300);
    expect(activityPoints(rules, { sport: 'cycling', distance_m: 999, moving_s: 600 })).toBe(0);
  });
  test('strength by duration, with its minimum and cap', () => {
    expect(activityPoints(rules, { sport: 'strength', distance_m: 0, moving_s: 599 })).toBe(0);
    expect(activityPoints(rules, { sport: 'strength', distance_m: 0, moving_s: 1800 })).toBe(45);
    expect(activityPoints(rules, { sport: 'strength', distance_m: 0, moving_s: 36_000 })).toBe(120);
  });
  test('a sport without a rule scores 0', () => {
    expect(activityPoints(rules, { sport: 'running', distance_m: 10_000, moving_s: 3000 })).toBe(0);
  });
});

describe('rulesProblem', () => {
  test('accepts good rules, names the bad', () => {
    expect(rulesProblem(rules)).toBeNull();
    expect(rulesProblem({ sports: [...rules.sports, rules.sports[0]!] })).toMatch(/two rules/);
    expect(rulesProblem({ sports: [{ ...rules.sports[0]!, sport: 'rowing' as 'walking' }] })).toMatch(
      /unknown sport/,
    );
    expect(rulesProblem({ sports: [{ ...rules.sports[0]!, per_km: -1 }] })).toMatch(/per_km/);
    expect(rulesProblem({ sports: [{ ...rules.sports[0]!, max_points: Number.NaN }] })).toMatch(/max_points/);
  });
});
