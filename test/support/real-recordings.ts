import { haversine } from '../../pipelines/primitives/geo.js';
import { type CleanSamples, FLAG_REJECTED } from '../../pipelines/types.js';
import type { Sample, Sport } from '../../schemas/types.js';

/**
 * The real-recordings corpus (test/fixtures/import/SOURCES.md): one entry per activity, read by
 * pipelines/import/real-files.test.ts and bench/real-accuracy.ts, so the test and the report measure the same set.
 */
export interface RealRecording {
  id: string;
  /** file in test/fixtures/import/ */
  file: string;
  /** index of the activity (FIT session) in the file */
  activity: number;
  /** device or app that recorded it, as SOURCES.md names it */
  device: string;
  /**
   * where the altitude comes from: a barometric altimeter (the device has one: Garmin fenix,
   * Forerunner 920XT, Edge 500/530/810/820, Wahoo ELEMNT, COROS Pace 2, GPSMAP 64s), GPS only, or
   * none worth the name (indoor and virtual rides)
   */
  altimeter: 'barometric' | 'gps' | 'none' | 'unknown';
  /** for files that do not name a sport Fitstream knows */
  sport?: Sport;
  /** under 500 m: the ends of the track weigh as much as the middle */
  short?: boolean;
}

export const REAL_RECORDINGS: readonly RealRecording[] = [
  {
    id: 'fenix5-ride',
    file: 'garmin-fenix-5-bike.fit',
    activity: 0,
    device: 'Garmin fenix 5',
    altimeter: 'barometric',
    short: true,
  },
  {
    id: 'fenix5-run',
    file: 'garmin-fenix-5-run.fit',
    activity: 0,
    device: 'Garmin fenix 5',
    altimeter: 'barometric',
    short: true,
  },
  {
    id: 'fenix5-walk',
    file: 'garmin-fenix-5-walk.fit',
    activity: 0,
    device: 'Garmin fenix 5',
    altimeter: 'barometric',
    short: true,
  },
  {
    id: 'edge820-ride',
    file: 'garmin-edge-820-bike.fit',
    activity: 0,
    device: 'Garmin Edge 820',
    altimeter: 'barometric',
    short: true,
  },
  {
    id: 'edge530-indoor',
    file: 'hrv-activity.fit',
    activity: 0,
    device: 'Garmin Edge 530',
    altimeter: 'none',
  },
  {
    id: 'triathlon-bike',
    file: 'sample_mulitple_header.fit',
    activity: 2,
    device: 'Garmin Forerunner 920XT',
    altimeter: 'barometric',
  },
  {
    id: 'triathlon-run',
    file: 'sample_mulitple_header.fit',
    activity: 4,
    device: 'Garmin Forerunner 920XT',
    altimeter: 'barometric',
  },
  {
    id: 'fenix6-run',
    file: '20210119_run_garmin_fenix6.tcx.gz',
    activity: 0,
    device: 'Garmin fenix 6',
    altimeter: 'barometric',
  },
  {
    id: 'virtual-ride',
    file: '20210308_virtual_ride_with_power.tcx.gz',
    activity: 0,
    device: 'training app (virtual course)',
    altimeter: 'none',
  },
  {
    id: 'garmin-connect-gpx',
    file: 'garmin-activity.gpx.gz',
    activity: 0,
    device: 'Garmin Connect export',
    altimeter: 'unknown',
  },
  {
    id: 'gpsbabel-gpx10',
    file: 'cerknicko-jezero.gpx',
    activity: 0,
    device: 'GPS logger via GPSBabel',
    altimeter: 'gps',
    sport: 'running',
  },
  {
    id: 'fr110-run',
    file: '2013-02-06-12-11-14.fit',
    activity: 0,
    device: 'Garmin Forerunner 110',
    altimeter: 'gps',
  },
  {
    id: 'edge200-ride',
    file: '2015-10-13-08-43-15.fit',
    activity: 0,
    device: 'Garmin Edge 200',
    altimeter: 'gps',
  },
  {
    id: 'elemnt-ride',
    file: '2019-02-17-062644-ELEMNT-297E-195-0.fit.gz',
    activity: 0,
    device: 'Wahoo ELEMNT',
    altimeter: 'barometric',
  },
  {
    id: 'edge810-ride',
    file: 'Edge810-Vector-2013-08-16-15-35-10.fit.gz',
    activity: 0,
    device: 'Garmin Edge 810',
    altimeter: 'barometric',
  },
  {
    id: 'fenix2-run',
    file: 'activity-small-fenix2-run.fit.gz',
    activity: 0,
    device: 'Garmin fenix 2',
    altimeter: 'barometric',
  },
  {
    id: 'fenix2-multi-run',
    file: 'activity-large-fenxi2-multisport.fit.gz',
    activity: 4,
    device: 'Garmin fenix 2',
    altimeter: 'barometric',
  },
  {
    id: 'fenix2-multi-ride',
    file: 'activity-large-fenxi2-multisport.fit.gz',
    activity: 6,
    device: 'Garmin fenix 2',
    altimeter: 'barometric',
  },
  {
    id: 'coros-ride',
    file: 'coros-pace-2-cycling-misaligned-fields.fit.gz',
    activity: 0,
    device: 'COROS Pace 2',
    altimeter: 'barometric',
  },
  {
    id: 'stryd-run',
    file: 'developer-types-sample.fit.gz',
    activity: 0,
    device: 'Stryd (file_id manufacturer)',
    altimeter: 'unknown',
  },
  {
    id: 'edge500-ride',
    file: 'garmin-edge-500-activity.fit.gz',
    activity: 0,
    device: 'Garmin Edge 500',
    altimeter: 'barometric',
  },
  {
    id: 'edge500-smart',
    file: 'sample-activity.fit.gz',
    activity: 0,
    device: 'Garmin Edge 500',
    altimeter: 'barometric',
  },
  {
    id: 'zwift-ride',
    file: 'null_compressed_speed_dist.fit.gz',
    activity: 0,
    device: 'Zwift (virtual ride)',
    altimeter: 'none',
  },
  {
    id: 'gpsmap64s-hike',
    file: 'garmin_with_extensions.gpx.gz',
    activity: 0,
    device: 'Garmin GPSMAP 64s',
    altimeter: 'barometric',
    sport: 'hiking',
  },
  {
    id: 'korita-hike',
    file: 'korita-zbevnica.gpx.gz',
    activity: 0,
    device: 'GPS logger via GPSBabel',
    altimeter: 'gps',
    sport: 'hiking',
  },
  {
    id: 'mytracks-phone-run',
    file: 'mytracks-android-visnjan.gpx',
    activity: 0,
    device: 'Google My Tracks (Android phone)',
    altimeter: 'gps',
    sport: 'running',
  },
  {
    id: 'mapmyride-phone-ride',
    file: 'mapmyride_biking.tcx.gz',
    activity: 0,
    device: 'MapMyRide (phone app)',
    altimeter: 'unknown',
  },
  {
    id: 'nike-run-club-run',
    file: 'nike_run.gpx.gz',
    activity: 0,
    device: 'Nike Run Club export (via gpxpy)',
    altimeter: 'unknown',
    sport: 'running',
  },
  {
    id: 'strava-export-run',
    file: 'strava_export.gpx.gz',
    activity: 0,
    device: 'Strava GPX export',
    altimeter: 'unknown',
  },
  {
    id: 'tomtom-run-tcx',
    file: 'tomtom-run.tcx.gz',
    activity: 0,
    device: 'TomTom GPS Sport Watch',
    altimeter: 'gps',
  },
  {
    id: 'tomtom-run-gpx',
    file: 'tomtom-run.gpx.gz',
    activity: 0,
    device: 'TomTom GPS Sport Watch',
    altimeter: 'gps',
    sport: 'running',
  },
  {
    id: 'vivoactive-walk',
    file: 'vivoactive-hr-walk.tcx.gz',
    activity: 0,
    device: 'Garmin vívoactive HR',
    altimeter: 'barometric',
    sport: 'walking',
  },
  {
    id: 'fr645m-run',
    file: 'fr645m-run.fit',
    activity: 0,
    device: 'Garmin Forerunner 645 Music',
    altimeter: 'barometric',
  },
];

/**
 * Peer method for elevation gain: a plain hysteresis on the raw altitude (GoldenCheetah and most
 * simple tools count gain this way): a rise counts once the altitude has moved `stepM` from the
 * last turning point. Null without altitude.
 */
export function plainGain(samples: readonly Sample[], stepM: number): number | null {
  let ref: number | null = null;
  let gain = 0;
  for (const s of samples) {
    if (s.alt === null) continue;
    if (ref === null) ref = s.alt;
    else if (s.alt - ref >= stepM) {
      gain += s.alt - ref;
      ref = s.alt;
    } else if (ref - s.alt >= stepM) ref = s.alt;
  }
  return ref === null ? null : gain;
}

/**
 * Peer method for elevation gain: gpxpy 1.6.2's get_uphill_downhill (gpxpy/geo.py,
 * calculate_uphill_downhill): each altitude replaced by 0.3·previous + 0.4·own + 0.3·next, then
 * every rise summed, no threshold. bench/real-accuracy.ts runs gpxpy itself; this is for the
 * synthetic sessions, which have no GPX file.
 */
export function gpxpyGain(samples: readonly Sample[]): number {
  const e: number[] = [];
  for (const s of samples) if (s.alt !== null) e.push(s.alt);
  let up = 0;
  let prev = Number.NaN;
  for (let i = 0; i < e.length; i++) {
    const cur = i > 0 && i < e.length - 1 ? 0.3 * e[i - 1]! + 0.4 * e[i]! + 0.3 * e[i + 1]! : e[i]!;
    if (i > 0 && cur > prev) up += cur - prev;
    prev = cur;
  }
  return up;
}

/** Peer moving-time thresholds (m/s) for plainMoving. */
export const PLAIN_MOVING_MPS: Readonly<Record<Sport, number>> = {
  running: 0.5,
  cycling: 1.0,
  walking: 0.3,
  hiking: 0.3,
  strength: 0.5,
};

/**
 * Peer method for moving time: every interval whose implied speed between two fixes (the device
 * speed where there are none) reaches the sport's PLAIN_MOVING_MPS.
 */
export function plainMoving(samples: readonly Sample[], sport: Sport): number {
  const thr = PLAIN_MOVING_MPS[sport];
  let t = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const dt = (b.ts - a.ts) / 1000;
    if (dt <= 0) continue;
    let v: number | null = null;
    if (a.lat !== null && a.lon !== null && b.lat !== null && b.lon !== null)
      v = haversine(a.lat, a.lon, b.lat, b.lon) / dt;
    else if (b.speed !== null) v = b.speed;
    if (v !== null && v >= thr) t += dt;
  }
  return t;
}

/** Raw haversine over every fix in file order. */
export function rawTrackDistance(samples: readonly Sample[]): number {
  let d = 0;
  let prev: Sample | null = null;
  for (const s of samples) {
    if (s.lat === null || s.lon === null) continue;
    if (prev) d += haversine(prev.lat!, prev.lon!, s.lat, s.lon);
    prev = s;
  }
  return d;
}

/** Distance of every accepted fix (not invalid, not a jump) from its smoothed position, m. */
export function trackDeviation(samples: CleanSamples): number[] {
  const dev: number[] = [];
  for (let i = 0; i < samples.length; i++) {
    if (samples.flags[i]! & FLAG_REJECTED) continue;
    const la = samples.lat[i]!;
    const ls = samples.latSmooth[i]!;
    if (Number.isNaN(la) || Number.isNaN(ls)) continue;
    dev.push(haversine(la, samples.lon[i]!, ls, samples.lonSmooth[i]!));
  }
  return dev;
}
