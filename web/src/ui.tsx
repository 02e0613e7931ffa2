import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api } from './api';
import { fitBounds, type LatLon } from './projection';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  reload: () => void;
}

/** GET `path` with the user's token whenever `path` changes; null path: nothing to load yet. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setError(null);
    api<T>(path).then(
      (d) => live && setData(d),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [path, n]);
  return { data, error, reload: () => setN((x) => x + 1) };
}

export function Status({ error, loading }: { error: string | null; loading: boolean }) {
  if (error)
    return (
      <p role="alert" class="error">
        {error}
      </p>
    );
  return loading ? <p aria-live="polite">Loading…</p> : null;
}

/** A uPlot line chart; `label` names it for screen readers (the figures are also in the tables beside). */
export function Chart({
  label,
  x,
  series,
  height = 180,
  xTime = false,
  xLabel = '',
  xSteps,
  yFormat,
}: {
  label: string;
  x: number[];
  series: { label: string; values: (number | null)[]; color: string }[];
  height?: number;
  xTime?: boolean;
  /** what x is (the legend's first entry) */
  xLabel?: string;
  /** allowed tick steps of x (e.g. whole splits: [1, 2, 5, 10]) */
  xSteps?: number[];
  /** how a y value reads (a pace as m:ss) */
  yFormat?: (v: number) => string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => s.label).join('|');
  useEffect(() => {
    const el = ref.current!;
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height,
      scales: { x: { time: xTime } },
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: xLabel },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          spanGaps: true,
          ...(yFormat ? { value: (_u: uPlot, v: number | null) => (v === null ? '–' : yFormat(v)) } : {}),
        })),
      ],
      axes: [
        xSteps ? { incrs: xSteps } : {},
        { size: 60, ...(yFormat ? { values: (_u: uPlot, vs: number[]) => vs.map(yFormat) } : {}) },
      ],
    };
    plot.current = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth || 600, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, height, xTime, xLabel]);
  useEffect(() => {
    plot.current?.setData([x, ...series.map((s) => s.values)] as uPlot.AlignedData);
  });
  return <div ref={ref} class="chart" role="img" aria-label={label} />;
}

let webConfig: Promise<{ tile_url: string | null }> | undefined;
/** The app's configuration from the API (`/app/config.json`), asked once. */
export function useWebConfig(): { tile_url: string | null } | null {
  const [c, setC] = useState<{ tile_url: string | null } | null>(null);
  useEffect(() => {
    webConfig ??= fetch('/app/config.json').then(
      (r) => (r.ok ? r.json() : { tile_url: null }),
      () => ({ tile_url: null }),
    );
    void webConfig.then(setC);
  }, []);
  return c;
}

/** A route: on a base map when a tile URL is configured (Leaflet, loaded only then), else on a plain canvas. */
export function RouteMap(props: { points: LatLon[]; label: string; height?: number }) {
  const config = useWebConfig();
  if (config === null) return null;
  return config.tile_url ? <TileRoute {...props} tileUrl={config.tile_url} /> : <RouteCanvas {...props} />;
}

function TileRoute({
  points,
  label,
  height = 320,
  tileUrl,
}: {
  points: LatLon[];
  label: string;
  height?: number;
  tileUrl: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let map: { remove(): void } | null = null;
    let gone = false;
    void Promise.all([import('leaflet'), import('leaflet/dist/leaflet.css')]).then(([mod]) => {
      // Leaflet is a UMD bundle: its API is the module's default export once bundled
      const L = (mod as unknown as { default?: typeof mod }).default ?? mod;
      if (gone || !ref.current) return;
      const m = L.map(ref.current, { scrollWheelZoom: false });
      L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(m);
      const line = L.polyline(
        points.map((p) => [p.lat, p.lon] as [number, number]),
        { color: '#d9480f', weight: 3 },
      ).addTo(m);
      m.fitBounds(line.getBounds(), { padding: [16, 16] });
      map = m;
    });
    return () => {
      gone = true;
      map?.remove();
    };
  }, [points, tileUrl]);
  return <div ref={ref} class="map tiles" style={{ height: `${height}px` }} role="img" aria-label={label} />;
}

/** A route on a plain projected canvas (no tiles, works offline): start green, end red. */
export function RouteCanvas({
  points,
  label,
  height = 320,
}: {
  points: LatLon[];
  label: string;
  height?: number;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current!;
    const dpr = devicePixelRatio || 1;
    const w = c.clientWidth || 600;
    c.width = w * dpr;
    c.height = height * dpr;
    const g = c.getContext('2d')!;
    g.scale(dpr, dpr);
    g.clearRect(0, 0, w, height);
    if (points.length === 0) return;
    const fit = fitBounds(points, w, height, 16);
    g.lineWidth = 3;
    g.lineJoin = 'round';
    g.strokeStyle = '#d9480f';
    g.beginPath();
    points.forEach((p, i) => {
      const q = fit.project(p);
      if (i === 0) g.moveTo(q.x, q.y);
      else g.lineTo(q.x, q.y);
    });
    g.stroke();
    const dot = (p: LatLon, color: string) => {
      const q = fit.project(p);
      g.fillStyle = color;
      g.beginPath();
      g.arc(q.x, q.y, 5, 0, 2 * Math.PI);
      g.fill();
    };
    dot(points[0]!, '#2b8a3e');
    dot(points.at(-1)!, '#c92a2a');
  }, [points, height]);
  return <canvas ref={ref} class="map" style={{ height: `${height}px` }} role="img" aria-label={label} />;
}

/** A labelled progress bar (the value is also in the text, not only in the bar's length). */
export function Bar({ value, max, label }: { value: number; max: number; label: string }) {
  const pct = max > 0 ? Math.max(0, Math.min(100, (100 * value) / max)) : 0;
  return (
    <div
      class="bar"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(pct)}
    >
      <div class="fill" style={{ width: `${pct}%` }} />
    </div>
  );
}
