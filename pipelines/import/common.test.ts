import { describe, expect, it } from 'vitest';
import { mapSport, parseIsoTime } from './common.js';

describe('parseIsoTime', () => {
  const utc = Date.parse('2024-05-01T10:00:00Z');
  it.each([
    ['2024-05-01T10:00:00Z', utc],
    ['2024-05-01T10:00:00z', utc],
    ['2024-05-01T10:00:00', utc], // no zone: UTC, as GPX and TCX define
    ['2024-05-01 10:00:00', utc],
    ['2024-05-01T10:00Z', utc],
    [' 2024-05-01T10:00:00Z ', utc],
    ['2024-05-01T12:00:00+02:00', utc],
    ['2024-05-01T12:00:00+0200', utc],
    ['2024-05-01T12:00:00+02', utc],
    ['2024-05-01T07:30:00-02:30', utc],
    ['2024-05-01T10:00:00.5Z', utc + 500],
    ['2024-05-01T10:00:00,25Z', utc + 250],
    ['2024-05-01T10:00:00.123456Z', utc + 123],
  ])('%s', (s, want) => expect(parseIsoTime(s)).toBe(want));
  it.each(['', 'yesterday', '2024-05-01', '1714557600', '2024-13-01T10:00:00Z'])('unreadable: %j', (s) =>
    expect(parseIsoTime(s)).toBeNaN(),
  );
});

describe('mapSport', () => {
  it.each([
    ['running', 'running'],
    ['Running', 'running'],
    ['trail_running', 'running'],
    ['Biking', 'cycling'],
    ['road biking', 'cycling'],
    ['indoor_cycling', 'cycling'],
    ['9', 'running'],
    ['1', 'cycling'],
    ['hiking', 'hiking'],
    ['walking', 'walking'],
    ['strength_training', 'strength'],
  ])('%s → %s', (s, want) => expect(mapSport(s)).toBe(want));
  it.each(['swimming', 'transition', 'Other', '', null, undefined])('unknown: %j', (s) =>
    expect(mapSport(s)).toBeNull(),
  );
});
