import { describe, expect, test } from 'vitest';
import { distance, duration, elevation, hrZone, pace, paceOrSpeed, speed } from './units';

describe('figures in the athlete’s units', () => {
  test('distance: metres under a kilometre, then km; miles in imperial', () => {
    expect(distance(0, 'metric')).toBe('0 m');
    expect(distance(999.4, 'metric')).toBe('999 m');
    expect(distance(10_000, 'metric')).toBe('10.00 km');
    expect(distance(1609.344, 'imperial')).toBe('1.00 mi');
  });
  test('durations: m:ss under an hour, h:mm:ss above', () => {
    expect(duration(0)).toBe('0:00');
    expect(duration(59.6)).toBe('1:00');
    expect(duration(3599)).toBe('59:59');
    expect(duration(3600 + 62)).toBe('1:01:02');
    expect(duration(-5)).toBe('0:00');
  });
  test('pace per km or per mile; none when stopped (null, 0)', () => {
    expect(pace(300, 'metric')).toBe('5:00 /km');
    expect(pace(300, 'imperial')).toBe('8:03 /mi');
    expect(pace(null, 'metric')).toBe('–');
    expect(pace(0, 'metric')).toBe('–');
  });
  test('speed in km/h or mph; pace for running, speed for cycling', () => {
    expect(speed(10, 'metric')).toBe('36.0 km/h');
    expect(speed(10, 'imperial')).toBe('22.4 mph');
    expect(paceOrSpeed('running', 3.33, 300, 'metric')).toBe('5:00 /km');
    expect(paceOrSpeed('cycling', 10, 100, 'metric')).toBe('36.0 km/h');
  });
  test('elevation in m or ft', () => {
    expect(elevation(100, 'metric')).toBe('100 m');
    expect(elevation(100, 'imperial')).toBe('328 ft');
  });
  test('HR zones by share of the maximum, the pipelines’ bounds; 0 without a reading', () => {
    expect(hrZone(null, 190)).toBe(0);
    expect(hrZone(0, 190)).toBe(0);
    expect(hrZone(113, 190)).toBe(1); // 59.5 %
    expect(hrZone(114, 190)).toBe(2); // 60 %
    expect(hrZone(133, 190)).toBe(3); // 70 %
    expect(hrZone(152, 190)).toBe(4); // 80 %
    expect(hrZone(171, 190)).toBe(5); // 90 %
  });
});
