import { Component } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, streamUrl } from '../api';
import { LiveBoardStore, type LiveEntry, type LiveSnapshot, type LiveState } from '../live-store';
import { useUnits } from '../profile';
import { TrailLayer } from '../trail-layer';
import { Chart } from '../ui';
import { distance, duration, hrZone, pace, paceOrSpeed, showsPace, speed, type Units } from '../units';

/** GET /v1/live/athletes: whom the board shows; `granted` ones' activities are open to the coach too. */
interface LiveAthlete {
  user_id: string;
  name: string;
  granted: boolean;
  group_ids: string[];
}

/** HR zones need the athlete's maximum, which a coach's view does not carry: 190 bpm stands in. */
const DEFAULT_MAX_HR = 190;
export const ZONE_COLOURS = ['#868e96', '#1971c2', '#2f9e44', '#f08c00', '#e8590c', '#c92a2a'];
const ATHLETES_POLL_MS = 10_000;
/** the shortest time between two draws of the board */
const DRAW_MS = 250;

/**
 * The coach's live board: every athlete in progress whose live sessions the signed-in coach may see (a coach
 * grant, or a member sharing with the staff of a group the coach runs: GET /v1/live/athletes), as cards and
 * on one map, from ONE server-sent event stream (GET /v1/live/board/stream). Updates are drawn at most
 * once per animation frame, and the clock ticks once a second to grey out athletes who stopped sending.
 */
export function Board() {
  const units = useUnits();
  const store = useMemo(() => new LiveBoardStore(), []);
  const [athletes, setAthletes] = useState<Map<string, LiveAthlete>>(new Map());
  const [connected, setConnected] = useState(false);
  const [focus, setFocus] = useState<string | null>(null);
  // the card whose detail was closed: the keyboard goes back to it in the same commit that removes the detail
  const returnFocus = useRef<string | null>(null);
  useLayoutEffect(() => {
    if (focus !== null || returnFocus.current === null) return;
    document
      .querySelector<HTMLElement>(`li.live-card[data-activity="${returnFocus.current}"] button`)
      ?.focus();
    returnFocus.current = null;
  }, [focus]);
  const [, setFrame] = useState(0);
  const athletesKey = useRef('');
  const [streamKey, setStreamKey] = useState('');

  // Whom the board shows: names for the cards, and the set of athletes; a new athlete reopens the stream.
  useEffect(() => {
    let live = true;
    const poll = async () => {
      try {
        const g = await api<{ items: LiveAthlete[] }>('/v1/live/athletes');
        if (!live) return;
        const m = new Map(g.items.map((x) => [x.user_id, x]));
        setAthletes(m);
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
    const t = setInterval(poll, ATHLETES_POLL_MS);
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
  const nameOf = (id: string) => athletes.get(id)?.name ?? 'athlete';
  const entries = store.ordered(now, nameOf);
  const live = entries.filter((e) => LiveBoardStore.stateOf(e, now) === 'live').length;
  const focused = focus ? store.sessions.get(focus) : undefined;

  return (
    <section aria-labelledby="board-title" class="board">
      <h1 id="board-title">Live board</h1>
      <p aria-live="polite" class="hint">
        {connected ? 'Connected' : 'Connecting…'} · {live} live · {entries.length} sessions · {athletes.size}{' '}
        athletes you may watch
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
              onClose={() => {
                returnFocus.current = focused.snap.activity_id;
                setFocus(null);
              }}
            />
          )}
          {entries.length === 0 ? (
            <p>
              No athlete you may watch is in a session right now: athletes who granted you access, and members
              who share their live sessions with the groups you run.
            </p>
          ) : (
            <ul class="cards" aria-label="Athletes in a session">
              {entries.map((e) => (
                <LiveCard
                  key={e.snap.activity_id}
                  entry={e}
                  state={LiveBoardStore.stateOf(e, now)}
                  name={nameOf(e.snap.user_id)}
                  activityLink={athletes.get(e.snap.user_id)?.granted === true}
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
  /** the activity is open to the coach (a grant); a group's staff see live sessions only */
  activityLink: boolean;
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
      next.activityLink !== p.activityLink ||
      next.units !== p.units
    );
  }
  override render(props: CardProps) {
    this.snap = props.entry.snap;
    return <CardBody {...props} />;
  }
}

function CardBody({ entry, state, name, activityLink, units, onOpen }: CardProps) {
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
      {state === 'done' && activityLink && <a href={`#/activities/${s.activity_id}`}>Activity</a>}
    </li>
  );
}

/**
 * One canvas for every athlete: trails, and the latest position coloured by HR zone (grey when stale). The
 * trails live on a layer of their own that each update only extends by the new points (trail-layer.ts);
 * the visible canvas is that layer plus one dot per athlete.
 */
function BoardMap({ entries, now, version }: { entries: LiveEntry[]; now: number; version: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const layer = useMemo(() => ({ canvas: document.createElement('canvas'), plan: new TrailLayer() }), []);
  const height = 360;
  useEffect(() => {
    const c = ref.current!;
    const dpr = devicePixelRatio || 1;
    const w = c.clientWidth || 600;
    for (const x of [c, layer.canvas])
      if (x.width !== w * dpr || x.height !== height * dpr) {
        x.width = w * dpr;
        x.height = height * dpr;
      }
    const states = entries.map((e) => LiveBoardStore.stateOf(e, now));
    const plan = layer.plan.plan(
      entries.map((e, i) => ({
        id: e.snap.activity_id,
        trail: e.trail,
        state: states[i] === 'live' ? 'live' : 'old',
      })),
      w,
      height,
      16,
    );
    const t = layer.canvas.getContext('2d')!;
    t.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (plan.full) t.clearRect(0, 0, w, height);
    t.lineWidth = 2;
    t.lineJoin = 'round';
    for (const s of plan.strokes) {
      if (s.points.length < 2) continue;
      t.strokeStyle = s.state === 'live' ? 'rgba(217,72,15,0.55)' : 'rgba(134,142,150,0.5)';
      t.beginPath();
      s.points.forEach((p, i) => {
        const q = plan.fit.project(p);
        if (i === 0) t.moveTo(q.x, q.y);
        else t.lineTo(q.x, q.y);
      });
      t.stroke();
    }
    const g = c.getContext('2d')!;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, c.width, c.height);
    g.drawImage(layer.canvas, 0, 0);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    entries.forEach((e, i) => {
      const last = e.trail.at(-1);
      if (!last) return;
      const q = plan.fit.project(last);
      g.fillStyle = states[i] === 'live' ? ZONE_COLOURS[hrZone(e.snap.hr, DEFAULT_MAX_HR)]! : '#adb5bd';
      g.beginPath();
      g.arc(q.x, q.y, 5, 0, 2 * Math.PI);
      g.fill();
    });
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
