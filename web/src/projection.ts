// Routes and positions on a plain canvas, without tiles or network: Web Mercator, fitted to the bounds.

export interface LatLon {
  lat: number;
  lon: number;
}

/** Web Mercator in units of the world's width (x, y in 0..1, y down). */
export function mercator(p: LatLon): { x: number; y: number } {
  const s = Math.sin((Math.max(-85, Math.min(85, p.lat)) * Math.PI) / 180);
  return { x: (p.lon + 180) / 360, y: 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI) };
}

export interface Fit {
  /** canvas pixel of a position */
  project(p: LatLon): { x: number; y: number };
  scale: number;
}

/**
 * The projection that shows every point inside a `width` × `height` canvas with `pad` pixels of margin,
 * same scale on both axes (so a route keeps its shape), centred. A single point (or none) sits centred.
 */
export function fitBounds(points: readonly LatLon[], width: number, height: number, pad = 12): Fit {
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (const p of points) {
    const m = mercator(p);
    if (m.x < minX) minX = m.x;
    if (m.x > maxX) maxX = m.x;
    if (m.y < minY) minY = m.y;
    if (m.y > maxY) maxY = m.y;
  }
  if (!Number.isFinite(minX)) {
    minX = maxX = 0.5;
    minY = maxY = 0.5;
  }
  const spanX = Math.max(maxX - minX, 1e-9);
  const spanY = Math.max(maxY - minY, 1e-9);
  // at most ~street level for one point or a tiny track
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY, 2 ** 24);
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  return {
    scale,
    project(p) {
      const m = mercator(p);
      return { x: width / 2 + (m.x - cx) * scale, y: height / 2 + (m.y - cy) * scale };
    },
  };
}
