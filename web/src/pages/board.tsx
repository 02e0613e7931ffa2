import { Component } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, streamUrl } from '../api';
import { LiveBoardStore, type LiveEntry, type LiveSnapshot, type LiveState } from '../live-store';
import { useUnits } from '../profile';
import { fitBounds } from '../projection';
import { Chart } from '../ui';
import { distance, duration, hrZone, pace, paceOrSpeed, showsPace, speed, type Units } from '../units';

interface Grant {
  status: 'pending' | 'accepted';
  athlete: { id: string; name: string };
}

/** HR zones need the athlete's maximum, which a coach's view does not carry: 190 bpm stands in. */
const DEFAULT_MAX_HR = 190;
export const ZONE_COLOURS = ['#868e96', '#1971c2', '#2f9e44', '#f08c00', '#e8590c', '#c92a2a'];
const GRANTS_POLL_MS = 10_000;
/** the shortest time between two draws of the board */
const DRAW_MS = 250;

/**
 * The coach's live board: every athlete in progress who granted the signed-in coach access, as cards and
 * on one map, from ONE server-sent event stream (GET /v1/live/board/stream). Updates are drawn at most
 * once per animation frame, and the clock ticks once a second to grey out athletes who stopped sending.
 */
export function Board() {
  const units = useUnits();
  const store = useMemo(() => new LiveBoardStore(), []);
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const [connected, setConnected] = useState(false);
  const [focus, setFocus] = useState<string | null>(null);
  const [, setFrame] = useState(0);
  const athletesKey = useRef('');
  const [streamKey, setStreamKey] = useState('');

  // Grants: names for the cards, and the set of athletes; a new athlete reopens the stream.
  useEffect(() => {
    let live = true;
    const poll = async () => {
      try {
        const g = await api<{ received: Grant[] }>('/v1/coach-grants');
        if (!live) return;
        const accepted = g.received.filter((x) => x.status === 'accepted');
        const m = new Map(accepted.map((x) => [x.athlete.id, x.athlete.name]));
        setNames(m);
        store.keepAthletes(new Set(m.keys()));
        const key = [...m.keys()].sort().join(',');
        if (key !== athletesKey.current) {
          athletesKey.current = key;
          setStreamKey(key);
        }
      } catch {
        // kept as it was; the next poll tries again
      }
    };
    void poll();
    const t = setInterval(poll, GRANTS_POLL_MS);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [store]);

  // The stream; reopened with a new single-use ticket after an error (EventSource's own retry would
  // present the spent ticket again).
  useEffect(() => {
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let closed = false;
    let pending = false;
    // 300 athletes send 300 snapshots a second, spread over the second: drawing on each would redraw
    // every frame. At most every DRAW_MS, in an animation frame, is what keeps the board smooth.
    let lastDraw = 0;
    const draw = () => {
      if (pending) return;
      pending = true;
      setTimeout(
        () =>
          requestAnimationFrame(() => {
            pending = false;
            lastDraw = performance.now();
            setFrame((n) => n + 1);
          }),
        Math.max(0, DRAW_MS - (performance.now() - lastDraw)),
      );
    };
    const open = async () => {
      try {
        const url = await streamUrl('/v1/live/board/stream');
        if (closed) return;
        es = new EventSource(url);
        es.onopen = () => setConnected(true);
        es.addEventListener('snapshot', (ev) => {
          store.apply(JSON.parse((ev as MessageEvent<string>).data) as LiveSnapshot, Date.now());
          draw();
        });
        es.addEventListener('revoked', (ev) => {
          store.removeAthlete(
            (JSON.parse((ev as MessageEvent<string>).data) as { athlete_id: string }).athlete_id,
          );
          draw();
        });
        es.onerror = () => {
          setConnected(false);
          es?.close();
          if (!closed) retry = setTimeout(open, 2000);
        };
      } catch {
        if (!closed) retry = setTimeout(open, 3000);
      }
    };
    void open();
    const tick = setInterval(() => setFrame((n) => n + 1), 1000);
    return () => {
      closed = true;
      clearTimeout(retry);
      clearInterval(tick);
      es?.close();
    };
  }, [store, streamKey]);

  const now = Date.now();
  const nameOf = (id: string) => names.get(id) ?? 'athlete';
  const entries = store.ordered(now, nameOf);
  const live = entries.filter((e) => LiveBoardStore.stateOf(e, now) === 'live').length;
  const focused = focus ? store.sessions.get(focus) : undefined;

  return (
    <section aria-labelledby="board-title" class="board">
      <h1 id="board-title">Live board</h1>
      <p aria-live="polite" class="hint">
        {connected ? 'Connected' : 'Connecting…'} · {live} live · {entries.length} sessions · {names.size}{' '}
        athletes granted access
      </p>
      <div class="board-layout">
        <div class="board-map">
          <BoardMap entries={entries} now={now} version={store.version} />
        </div>
        <div class="board-cards">
          {focused && (
            <LiveDetail
              entry={focused}
              name={nameOf(focused.snap.user_id)}
              units={units}
              onClose={() => setFocus(null)}
            />
          )}
          {entries.length === 0 ? (
            <p>No athlete who granted you access is in a session right now.</p>
          ) : (
            <ul class="cards" aria-label="Athletes in a session">
              {entries.map((e) => (
                <LiveCard
                  key={e.snap.activity_id}
                  entry={e}
                  state={LiveBoardStore.stateOf(e, now)}
                  name={nameOf(e.snap.user_id)}
                  units={units}
                  onOpen={() => setFocus(e.snap.activity_id)}
                />
              ))}
            </ul>
          )}
        </div>
      </div>
    </section>
  );
}

interface CardProps {
  entry: LiveEntry;
  state: LiveState;
  name: string;
  units: Units;
  onOpen: () => void;
}

/** A card is drawn again only when its snapshot, state, name or units changed (not on every board draw). */
class LiveCard extends Component<CardProps> {
  private snap: LiveSnapshot | null = null;
  override shouldComponentUpdate(next: CardProps): boolean {
    const p = this.props;
    return (
      next.entry.snap !== this.snap ||
      next.state !== p.state ||
      next.name !== p.name ||
      next.units !== p.units
    );
  }
  override render(props: CardProps) {
    this.snap = props.entry.snap;
    return <CardBody {...props} />;
  }
}

function CardBody({ entry, state, name, units, onOpen }: CardProps) {
  const s = entry.snap;
  const zone = hrZone(s.hr, DEFAULT_MAX_HR);
  return (
    <li
      class={`card live-card ${state}`}
      data-athlete={s.user_id}
      data-activity={s.activity_id}
      data-state={state}
    >
      <h2>
        <button type="button" class="link" onClick={onOpen} aria-label={`${name}: open live charts`}>
          {name}
        </button>
      </h2>
      <p class="sport">
        {s.sport} · {state === 'done' ? 'done' : state === 'stale' ? 'no data' : s.status}
      </p>
      <dl class="figures">
        <dt>{showsPace(s.sport) ? 'Pace' : 'Speed'}</dt>
        <dd data-field="pace">{paceOrSpeed(s.sport, s.speed_mps, s.pace_s_per_km, units)}</dd>
        <dt>HR</dt>
        <dd data-field="hr">
          <span class="zone" style={{ background: ZONE_COLOURS[zone] }} aria-hidden="true" />
          {s.hr === null ? '–' : `${Math.round(s.hr)} bpm`}
          {zone > 0 && <span class="sr-only"> zone {zone}</span>}
        </dd>
        <dt>Distance</dt>
        <dd data-field="distance">{distance(s.distance_m, units)}</dd>
        <dt>Elapsed</dt>
        <dd data-field="elapsed">{duration(s.elapsed_s)}</dd>
        <dt>Moving</dt>
        <dd data-field="moving">{duration(s.moving_s)}</dd>
      </dl>
      {state === 'done' && <a href={`#/activities/${s.activity_id}`}>Activity</a>}
    </li>
  );
}

/** One canvas for every athlete: trails, and the latest position coloured by HR zone (grey when stale). */
function BoardMap({ entries, now, version }: { entries: LiveEntry[]; now: number; version: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const height = 360;
  useEffect(() => {
    const c = ref.current!;
    const dpr = devicePixelRatio || 1;
    const w = c.clientWidth || 600;
    if (c.width !== w * dpr || c.height !== height * dpr) {
      c.width = w * dpr;
      c.height = height * dpr;
    }
    const g = c.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, height);
    const all = entries.flatMap((e) => e.trail);
    if (all.length === 0) return;
    const fit = fitBounds(all, w, height, 16);
    g.lineWidth = 2;
    for (const e of entries) {
      const state = LiveBoardStore.stateOf(e, now);
      if (e.trail.length === 0) continue;
      g.strokeStyle = state === 'live' ? 'rgba(217,72,15,0.55)' : 'rgba(134,142,150,0.5)';
      g.beginPath();
      e.trail.forEach((p, i) => {
        const q = fit.project(p);
        if (i === 0) g.moveTo(q.x, q.y);
        else g.lineTo(q.x, q.y);
      });
      g.stroke();
      const q = fit.project(e.trail.at(-1)!);
      g.fillStyle = state === 'live' ? ZONE_COLOURS[hrZone(e.snap.hr, DEFAULT_MAX_HR)]! : '#adb5bd';
      g.beginPath();
      g.arc(q.x, q.y, 5, 0, 2 * Math.PI);
      g.fill();
    }
  }, [version, now, entries.length]);
  return (
    <canvas
      ref={ref}
      class="map"
      style={{ height: `${height}px` }}
      role="img"
      aria-label={`Map of ${entries.length} live sessions`}
    />
  );
}

function LiveDetail({
  entry,
  name,
  units,
  onClose,
}: {
  entry: LiveEntry;
  name: string;
  units: Units;
  onClose: () => void;
}) {
  const h = entry.history;
  const t0 = h[0]?.ts ?? 0;
  const x = h.map((p) => (p.ts - t0) / 1000);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), [entry.snap.activity_id]);
  const usePace = showsPace(entry.snap.sport);
  return (
    <section
      class="card detail"
      aria-label={`${name}, live charts`}
      tabIndex={-1}
      ref={ref}
      onKeyDown={(e) => e.key === 'Escape' && onClose()}
    >
      <div class="row">
        <h2>{name}</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <p>
        {usePace ? pace(entry.snap.pace_s_per_km, units) : speed(entry.snap.speed_mps, units)} ·{' '}
        {entry.snap.hr === null ? '–' : `${Math.round(entry.snap.hr)} bpm`} ·{' '}
        {distance(entry.snap.distance_m, units)}
      </p>
      <Chart
        xLabel="s"
        label={`${name}: heart rate over the session`}
        x={x}
        series={[{ label: 'HR (bpm)', values: h.map((p) => p.hr), color: '#c92a2a' }]}
      />
      <Chart
        xLabel="s"
        label={`${name}: ${usePace ? 'pace' : 'speed'} over the session`}
        x={x}
        {...(usePace ? { yFormat: duration } : {})}
        series={[
          usePace
            ? {
                label: `Pace (/${units === 'imperial' ? 'mi' : 'km'})`,
                values: h.map((p) =>
                  p.pace === null ? null : units === 'imperial' ? p.pace * 1.609344 : p.pace,
                ),
                color: '#1971c2',
              }
            : {
                label: `Speed (${units === 'imperial' ? 'mph' : 'km/h'})`,
                values: h.map((p) => (units === 'imperial' ? p.speed * 2.236936 : p.speed * 3.6)),
                color: '#1971c2',
              },
        ]}
      />
    </section>
  );
}
