/**
 * The Earth as the stages measure it: great-circle (haversine) length on a sphere of the IUGG mean
 * Earth radius R1 = 6 371 008.8 m, and a local tangent plane for the filters. Against the WGS84
 * ellipsoid the sphere errs by < 0.5 % on a single segment (worst north–south at the poles/equator),
 * and by far less on mixed headings; the error is systematic and tiny next to GPS noise, so it is
 * the industry-standard choice.
 */
export const EARTH_RADIUS_M = 6_371_008.8;

/** radians per degree */
export const DEG = Math.PI / 180;

/** Haversine distance in metres between two WGS84 points (degrees). */
export function haversine(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const p1 = lat1 * DEG;
  const p2 = lat2 * DEG;
  const sdp = Math.sin((p2 - p1) * 0.5);
  const sdl = Math.sin((lon2 - lon1) * DEG * 0.5);
  const h = sdp * sdp + Math.cos(p1) * Math.cos(p2) * sdl * sdl;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(h, 1)));
}

/** Haversine with the cosines of both latitudes supplied (a track reuses each one twice). */
export function haversineCos(
  lat1: number,
  lon1: number,
  cos1: number,
  lat2: number,
  lon2: number,
  cos2: number,
): number {
  const sdp = Math.sin((lat2 - lat1) * DEG * 0.5);
  const sdl = Math.sin((lon2 - lon1) * DEG * 0.5);
  const h = sdp * sdp + cos1 * cos2 * sdl * sdl;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(h, 1)));
}

/** Local tangent-plane projection (equirectangular around an origin): fine for the noise model. */
export class LocalPlane {
  lat0 = 0;
  lon0 = 0;
  kx = 1;
  readonly ky = EARTH_RADIUS_M * DEG;

  setOrigin(lat: number, lon: number): void {
    this.lat0 = lat;
    this.lon0 = lon;
    this.kx = EARTH_RADIUS_M * DEG * Math.cos(lat * DEG);
  }
  copyFrom(o: LocalPlane): void {
    this.lat0 = o.lat0;
    this.lon0 = o.lon0;
    this.kx = o.kx;
  }
  x(lon: number): number {
    return (lon - this.lon0) * this.kx;
  }
  y(lat: number): number {
    return (lat - this.lat0) * this.ky;
  }
  lon(x: number): number {
    return this.lon0 + x / this.kx;
  }
  lat(y: number): number {
    return this.lat0 + y / this.ky;
  }
}
