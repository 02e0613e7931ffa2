/** IUGG mean Earth radius; the pipeline's distance stage must use the same value for truth comparisons. */
export const EARTH_RADIUS_M = 6_371_008.8;

const RAD = Math.PI / 180;
const DEG = 180 / Math.PI;

/** Great-circle distance in metres between two WGS84 points given in degrees (spherical Earth). */
export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const s = Math.sin(dLat / 2);
  const t = Math.sin(dLon / 2);
  const a = s * s + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * t * t;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Degrees of latitude per metre northward. */
export function metresToDegLat(northM: number): number {
  return (northM / EARTH_RADIUS_M) * DEG;
}

/** Degrees of longitude per metre eastward at latitude `latDeg`. */
export function metresToDegLon(eastM: number, latDeg: number): number {
  return (eastM / (EARTH_RADIUS_M * Math.cos(latDeg * RAD))) * DEG;
}

/** Wraps a longitude into [-180, 180). */
export function wrapLon(lon: number): number {
  return lon >= 180 || lon < -180 ? ((((lon + 180) % 360) + 360) % 360) - 180 : lon;
}
