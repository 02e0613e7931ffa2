// What the board's map has to draw on each update: the trails are kept on a layer of their own and only the
// points added since the last draw are stroked, so an update costs the new points, not every point of every
// trail (300 athletes × 600 points would be 180 000 projected segments 4 times a second). Everything is
// drawn anew only when it has to be: the first draw, a new canvas size, a trail leaving the fitted area
// (the fit has a margin, so that is rare), a session's colour changing (live → stale → done), a session
// gone, or a trail trimmed at its cap. Pure (no canvas), so it is unit-tested without a browser.
import { type Fit, fitBounds, type LatLon } from './projection';

export interface TrailSource {
  id: string;
  trail: readonly LatLon[];
  /** the colour class of the trail (live, stale, done) */
  state: string;
}

export interface TrailStroke {
  id: string;
  state: string;
  /** the points to stroke, in order; the first is the last one already drawn when the stroke continues */
  points: readonly LatLon[];
}

export interface TrailPlan {
  /** clear the layer first and draw every trail in full */
  full: boolean;
  fit: Fit;
  strokes: TrailStroke[];
}

interface Drawn {
  state: string;
  /** the trail's last point already on the layer (the store appends new objects, never changes one) */
  last: LatLon;
  length: number;
}

/** The fitted area is the trails' bounds grown by this share on every side, so growth rarely refits. */
const MARGIN = 0.25;

export class TrailLayer {
  private drawn = new Map<string, Drawn>();
  private fit: Fit | null = null;
  private area: { minLat: number; maxLat: number; minLon: number; maxLon: number } | null = null;
  private size = '';

  plan(sources: readonly TrailSource[], width: number, height: number, pad: number): TrailPlan {
    const size = `${width}x${height}`;
    let full = this.fit === null || size !== this.size || this.area === null;
    if (!full) {
      const ids = new Set(sources.map((s) => s.id));
      full = [...this.drawn.keys()].some((id) => !ids.has(id)) || sources.some((s) => this.mustRedraw(s));
    }
    if (!full && this.outside(sources)) full = true;
    if (full) {
      this.size = size;
      this.refit(sources, width, height, pad);
      this.drawn.clear();
    }
    const strokes: TrailStroke[] = [];
    for (const s of sources) {
      if (s.trail.length === 0) continue;
      const d = this.drawn.get(s.id);
      const from = d ? s.trail.lastIndexOf(d.last) : 0;
      if (from === s.trail.length - 1 && d) continue;
      strokes.push({ id: s.id, state: s.state, points: s.trail.slice(from) });
      this.drawn.set(s.id, { state: s.state, last: s.trail.at(-1)!, length: s.trail.length });
    }
    return { full, fit: this.fit!, strokes };
  }

  /** a session whose trail cannot be continued: new colour, trimmed, or its last drawn point gone */
  private mustRedraw(s: TrailSource): boolean {
    const d = this.drawn.get(s.id);
    if (!d) return false;
    if (d.state !== s.state || s.trail.length < d.length) return true;
    return s.trail.lastIndexOf(d.last) < 0;
  }

  private outside(sources: readonly TrailSource[]): boolean {
    const a = this.area!;
    for (const s of sources) {
      const d = this.drawn.get(s.id);
      const from = d ? s.trail.lastIndexOf(d.last) + 1 : 0;
      for (let i = from; i < s.trail.length; i++) {
        const p = s.trail[i]!;
        if (p.lat < a.minLat || p.lat > a.maxLat || p.lon < a.minLon || p.lon > a.maxLon) return true;
      }
    }
    return false;
  }

  private refit(sources: readonly TrailSource[], width: number, height: number, pad: number) {
    let minLat = Number.POSITIVE_INFINITY;
    let maxLat = Number.NEGATIVE_INFINITY;
    let minLon = Number.POSITIVE_INFINITY;
    let maxLon = Number.NEGATIVE_INFINITY;
    for (const s of sources)
      for (const p of s.trail) {
        if (p.lat < minLat) minLat = p.lat;
        if (p.lat > maxLat) maxLat = p.lat;
        if (p.lon < minLon) minLon = p.lon;
        if (p.lon > maxLon) maxLon = p.lon;
      }
    if (!Number.isFinite(minLat)) {
      this.area = null;
      this.fit = fitBounds([], width, height, pad);
      return;
    }
    // at least ~100 m across, so a few first points do not refit at every step
    const dLat = Math.max(maxLat - minLat, 0.001) * MARGIN;
    const dLon = Math.max(maxLon - minLon, 0.001) * MARGIN;
    this.area = {
      minLat: minLat - dLat,
      maxLat: maxLat + dLat,
      minLon: minLon - dLon,
      maxLon: maxLon + dLon,
    };
    this.fit = fitBounds(
      [
        { lat: this.area.minLat, lon: this.area.minLon },
        { lat: this.area.maxLat, lon: this.area.maxLon },
      ],
      width,
      height,
      pad,
    );
  }
}
