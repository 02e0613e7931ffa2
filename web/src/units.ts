// Figures as the athlete reads them: metric or imperial (users.preferences.units), pace or speed by sport.
export type Units = 'metric' | 'imperial';

const M_PER_MILE = 1609.344;
const M_PER_FT = 0.3048;

/** Sports whose current figure is a pace (time per distance); the others show a speed. */
const PACE_SPORTS = new Set(['running', 'walking', 'hiking']);
export const showsPace = (sport: string): boolean => PACE_SPORTS.has(sport);

export function distance(m: number, units: Units): string {
  if (units === 'imperial') return `${(m / M_PER_MILE).toFixed(2)} mi`;
  return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(2)} km`;
}

export function elevation(m: number, units: Units): string {
  return units === 'imperial' ? `${Math.round(m / M_PER_FT)} ft` : `${Math.round(m)} m`;
}

/** h:mm:ss, or m:ss under an hour. */
export function duration(s: number): string {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Pace from seconds per km: "5:12 /km" or "8:22 /mi"; "–" when stopped. */
export function pace(sPerKm: number | null, units: Units): string {
  if (sPerKm === null || !Number.isFinite(sPerKm) || sPerKm <= 0) return '–';
  const s = units === 'imperial' ? (sPerKm * M_PER_MILE) / 1000 : sPerKm;
  return `${duration(s)} /${units === 'imperial' ? 'mi' : 'km'}`;
}

export function speed(mps: number, units: Units): string {
  return units === 'imperial'
    ? `${((mps * 3600) / M_PER_MILE).toFixed(1)} mph`
    : `${(mps * 3.6).toFixed(1)} km/h`;
}

/** The live figure of a sport: pace for running and walking, speed for riding. */
export function paceOrSpeed(sport: string, mps: number, sPerKm: number | null, units: Units): string {
  return showsPace(sport) ? pace(sPerKm, units) : speed(mps, units);
}

/** Metres per unit of the athlete's distance, for chart axes and goal targets. */
export const distanceUnit = (units: Units): { name: string; m: number } =>
  units === 'imperial' ? { name: 'mi', m: M_PER_MILE } : { name: 'km', m: 1000 };

/**
 * The heart-rate zone (1..5) of `hr` by share of the maximum, the rule of pipelines' HR summary
 * (< 60 %, 60–70, 70–80, 80–90, ≥ 90 %); 0 when there is no reading.
 */
export function hrZone(hr: number | null, maxHr: number): number {
  if (hr === null || !Number.isFinite(hr) || hr <= 0) return 0;
  const f = hr / maxHr;
  if (f < 0.6) return 1;
  if (f < 0.7) return 2;
  if (f < 0.8) return 3;
  if (f < 0.9) return 4;
  return 5;
}
