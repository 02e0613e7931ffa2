// The latest version of each of an athlete's activities, without FINAL (issue 15, docs/analytics.md
// "Which ordering key each API read uses").
//
// `activities` is a ReplacingMergeTree(version) ordered by (user_id, activity_id): FINAL would merge the
// athlete's key range across parts at read time; sorting that range by (activity_id, version DESC) and
// keeping the first row of each activity (LIMIT 1 BY, on 18.16 and current ClickHouse) gives the same rows
// at a third of the server time on 18.16 (bench/api/query-variants.sh in bench/results/api-http.md: list
// 74.4 -> 27.6 ms, progress 24.6 -> 8.1 ms over the same 24,576 rows, at load average 16-20). Filters on columns that can change between versions
// (start_ts, sport, best_efforts) belong outside, so they judge the latest version, as FINAL does.

import { str } from '../common/clickhouse-sql.js';

/**
 * A subquery (in parentheses) of `columns` of the latest version of each activity matching `keyFilter`,
 * which must fix `user_id` (the key's first column) and may narrow `activity_id`.
 */
export function latestActivities(db: string, keyFilter: string, columns: readonly string[]): string {
  // the sort and LIMIT BY columns selected too (18.16 resolves them from the select list)
  const cols = [...new Set(['activity_id', 'version', ...columns])];
  return `(SELECT ${cols.join(', ')} FROM ${db}.activities WHERE ${keyFilter}
          ORDER BY activity_id, version DESC LIMIT 1 BY activity_id)`;
}

/**
 * The latest version of one activity known only by its id, on the full key: its athlete from
 * `activity_owners` (keyed by activity_id, migration 0050), then the few rows of (user_id, activity_id).
 * 18.16 reads one granule of each part for it; `activity_id = …` alone read three times as many rows of other
 * athletes, at eight times the server time (195 -> 24.8 ms in bench/results/api-http.md). The PREWHERE as in
 * activityOfAthlete below.
 */
export function activityById(db: string, activityId: string, columns: readonly string[]): string {
  const id = str(activityId);
  return `SELECT ${columns.join(', ')} FROM ${db}.activities
          PREWHERE activity_id = ${id}
          WHERE user_id IN (SELECT owner_id FROM ${db}.activity_owners WHERE activity_id = ${id})
          ORDER BY version DESC LIMIT 1`;
}

/**
 * The latest version of one activity of a known athlete: on the `activities` key alone (user_id, activity_id).
 * PREWHERE on the id: the key range gives one granule of the athlete per part, and only the part that holds the
 * activity is read for the other columns (18.16 does not move a key column's condition to PREWHERE itself).
 * Over the bench's 3 parts: 4,586 -> 1,080 KiB read, 3-10 -> 2 ms.
 */
export function activityOfAthlete(
  db: string,
  userId: string,
  activityId: string,
  columns: readonly string[],
): string {
  return `SELECT ${columns.join(', ')} FROM ${db}.activities
          PREWHERE activity_id = ${str(activityId)}
          WHERE user_id = ${str(userId)}
          ORDER BY version DESC LIMIT 1`;
}
