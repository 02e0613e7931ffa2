import { expect, test } from 'vitest';
import { canonicalTimeZone, isoTime, snakeCase, snakeKeys } from './shared.js';

test('worker field names become the API snake_case ones, deeply', () => {
  expect(['distanceM', 'paceSPerKm', 'hrZonesS', 'activity_id', 'lat'].map(snakeCase)).toEqual([
    'distance_m',
    'pace_s_per_km',
    'hr_zones_s',
    'activity_id',
    'lat',
  ]);
  expect(
    snakeKeys({ splitsKm: [{ avgSpeedMps: 3, elevGainM: null }], hr: { maxHrUsed: 190, zonesS: [1, 2] } }),
  ).toEqual({
    splits_km: [{ avg_speed_mps: 3, elev_gain_m: null }],
    hr: { max_hr_used: 190, zones_s: [1, 2] },
  });
  expect(snakeKeys(null)).toBeNull();
  expect(isoTime(1_763_600_000_000)).toBe('2025-11-20T00:53:20.000Z');
});

test('IANA zone names only, in their canonical spelling', () => {
  expect(canonicalTimeZone('europe/zurich')).toBe('Europe/Zurich');
  expect(canonicalTimeZone('UTC')).toBe('UTC');
  // ICU's canonical name is CLDR's, which may be an IANA link: still a name every Intl resolves.
  expect(canonicalTimeZone('America/Argentina/Buenos_Aires')).toBe('America/Buenos_Aires');
  for (const bad of ['+01:00', 'Mars/Olympus', '', '../etc', 'Europe/'] as const)
    expect(canonicalTimeZone(bad)).toBeNull();
});
