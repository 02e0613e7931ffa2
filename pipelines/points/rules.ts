// Points rules: what one activity is worth, per sport, from its distance and moving time. Pure; the API
// turns the same rule into one ClickHouse expression (services/api/points-store.ts `pointsSql`) that
// scores all of history at once, and a test proves both give the same number for the same activity.
import { SPORTS, type Sport } from '../../schemas/vocabulary.js';

/** The rule of one sport. An activity below a minimum scores 0; the cap bounds one activity's points. */
export interface SportRule {
  sport: Sport;
  /** points per kilometre of distance */
  per_km: number;
  /** points per minute of moving time (strength: the only term) */
  per_minute: number;
  /** points for the activity itself, once it meets the minimums */
  per_activity: number;
  /** shorter activities score 0, m */
  min_distance_m: number;
  /** shorter activities score 0, s */
  min_moving_s: number;
  /** the most one activity can score; absent = no cap */
  max_points?: number;
}

/** One version's rules: a sport without a rule scores 0. */
export interface PointsRules {
  sports: SportRule[];
}

export interface ScoredActivity {
  sport: string;
  distance_m: number;
  moving_s: number;
}

/**
 * The points of one activity. The arithmetic is written in the order the SQL expression evaluates it
 * (`per_activity + per_km * distance_m / 1000 + per_minute * moving_s / 60`), so both round alike.
 */
export function activityPoints(rules: PointsRules, a: ScoredActivity): number {
  const r = rules.sports.find((s) => s.sport === a.sport);
  if (!r) return 0;
  if (a.distance_m < r.min_distance_m || a.moving_s < r.min_moving_s) return 0;
  const raw = r.per_activity + (r.per_km * a.distance_m) / 1000 + (r.per_minute * a.moving_s) / 60;
  return r.max_points === undefined ? raw : Math.min(r.max_points, raw);
}

/** Why a set of rules cannot be published, or null when it can (the schema checks types and ranges). */
export function rulesProblem(rules: PointsRules): string | null {
  const seen = new Set<string>();
  for (const r of rules.sports) {
    if (!(SPORTS as readonly string[]).includes(r.sport)) return `unknown sport ${r.sport}`;
    if (seen.has(r.sport)) return `sport ${r.sport} has two rules`;
    seen.add(r.sport);
    for (const k of ['per_km', 'per_minute', 'per_activity', 'min_distance_m', 'min_moving_s'] as const)
      if (!Number.isFinite(r[k]) || r[k] < 0) return `${r.sport}.${k} must be a number >= 0`;
    if (r.max_points !== undefined && (!Number.isFinite(r.max_points) || r.max_points < 0))
      return `${r.sport}.max_points must be a number >= 0`;
  }
  return null;
}
