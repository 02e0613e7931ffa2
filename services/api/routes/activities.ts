import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ident, int, str } from '../../common/clickhouse-sql.js';
import { type ActivityVisibility, principalOf, requireVisibleAthlete, visibleActivity } from '../access.js';
import { deleteActivity, finishDeletion, tombstoneOf } from '../activity-deletion.js';
import { EXPORT_TYPES, exportFile } from '../activity-export.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { activityById, activityOfAthlete, latestActivities } from '../latest-activities.js';
import { athleteRows, redisStatsCache } from '../stats-cache.js';
import { buildStreams, STREAM_KEYS, type StreamKey, type StreamsRow } from '../streams.js';
import {
  planUpload,
  UPLOAD_DEVICE_ID,
  UPLOAD_LIMITS,
  type UploadBody,
  uploadActivityId,
  uploadSessionId,
} from '../uploads.js';
import { isoTime, problemResponse, selectRows, snakeKeys } from './shared.js';

const Id = Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' });
const Sport = Type.Union(['running', 'cycling', 'walking', 'hiking', 'strength'].map((s) => Type.Literal(s)));
const RecordedSport = Type.Union(['running', 'cycling', 'walking', 'hiking'].map((s) => Type.Literal(s)));
const Visibility = Type.Union([Type.Literal('private'), Type.Literal('followers'), Type.Literal('public')], {
  description:
    'private: its athlete only; followers (the default): also the coaches they granted access; public: any signed-in caller with its id',
});
interface Details {
  name: string | null;
  notes: string | null;
  visibility: ActivityVisibility;
}
const IdempotencyKey = Type.String({ pattern: '^[\\x21-\\x7e]{1,255}$' });
const Time = Type.String({ format: 'date-time', description: 'ISO 8601 with offset' });
// A type list, not anyOf: the app coerces types, and under anyOf a null tried against a number becomes 0
// (or a 0 tried against null becomes null); with ['number', 'null'] a value that is either is kept.
const opt = (kind: 'number' | 'integer', range: { minimum: number; maximum: number }) =>
  Type.Optional(Type.Unsafe<number | null>({ type: [kind, 'null'], ...range }));
const Text = (max: number) => Type.Optional(Type.String({ maxLength: max }));

/** The seed contract's data point (docs/uploads.md); ranges are the gateway's (schemas/payload.ts FIELD_RANGES). */
const DataPoint = Type.Object(
  {
    time: Time,
    lat: opt('number', { minimum: -90, maximum: 90 }),
    lng: opt('number', { minimum: -180, maximum: 180 }),
    altitude: opt('number', { minimum: -1000, maximum: 10_000 }),
    heart_rate: opt('integer', { minimum: 20, maximum: 250 }),
    cadence: opt('integer', { minimum: 0, maximum: 300 }),
    power: opt('integer', { minimum: 0, maximum: 3000 }),
    speed: opt('number', { minimum: 0, maximum: 150 }),
    distance: opt('number', { minimum: 0, maximum: 100_000_000 }),
  },
  { additionalProperties: false },
);
const common = {
  start_time: Time,
  name: Text(200),
  notes: Text(10_000),
  client_activity_id: Type.Optional(IdempotencyKey),
};
const UploadSchema = Type.Union([
  Type.Object(
    {
      type: RecordedSport,
      ...common,
      laps: Type.Optional(Type.Array(Type.Object({ start_time: Time }, { additionalProperties: false }))),
      data_points: Type.Array(DataPoint, { minItems: 1 }),
    },
    { additionalProperties: false, title: 'recorded' },
  ),
  Type.Object(
    {
      type: Type.Literal('strength'),
      ...common,
      sets: Type.Array(
        Type.Object(
          {
            exercise: Type.String({ minLength: 1, maxLength: 64 }),
            reps: Type.Integer({ minimum: 0, maximum: 10_000 }),
            weight_kg: opt('number', { minimum: 0, maximum: 2000 }),
            duration_s: opt('number', { minimum: 0, maximum: 3600 }),
            rest_s: opt('number', { minimum: 0, maximum: 3600 }),
          },
          { additionalProperties: false },
        ),
        { minItems: 1 },
      ),
    },
    { additionalProperties: false, title: 'strength' },
  ),
  Type.Object(
    {
      type: Sport,
      ...common,
      duration_s: Type.Number({
        exclusiveMinimum: 0,
        maximum: 1e9,
        description: 'elapsed = moving time, s (at most the 48 h span: else 422 upload_span_too_long)',
      }),
      distance_m: Type.Number({ minimum: 0, maximum: 100_000_000, description: 'm; 0 for none' }),
      elevation_gain_m: opt('number', { minimum: 0, maximum: 100_000 }),
      calories: opt('number', { minimum: 0, maximum: 100_000 }),
    },
    {
      additionalProperties: false,
      title: 'manual',
      description:
        "a workout logged by hand, any sport: its figures as stated (calories, when missing, from the sport's MET over the duration)",
    },
  ),
]);
const Accepted = Type.Object({
  activity_id: Type.String({ format: 'uuid' }),
  status: Type.Literal('processing'),
});

/** The list view: key figures of each activity (the full summary is on GET /v1/activities/{id}). */
const ActivityListItem = Type.Object({
  activity_id: Type.String(),
  user_id: Type.String(),
  sport: Type.String(),
  version: Type.Integer(),
  start_time: Type.String({ format: 'date-time', description: 'ISO 8601 (UTC)' }),
  start_ts: Type.Integer({ description: 'the same, epoch ms (what `before` pages with)' }),
  end_time: Type.String({ format: 'date-time' }),
  end_ts: Type.Integer(),
  elapsed_s: Type.Number(),
  moving_s: Type.Number(),
  distance_m: Type.Number(),
  elev_gain_m: Type.Number(),
  avg_speed_mps: Type.Number(),
  hr_avg: Type.Union([Type.Number(), Type.Null()]),
  calories: Type.Number(),
  polyline: Type.String(),
});

const LIST_COLUMNS = [
  'activity_id',
  'user_id',
  'sport',
  'version',
  'start_ts',
  'end_ts',
  'elapsed_s',
  'moving_s',
  'distance_m',
  'elev_gain_m',
  'avg_speed_mps',
  'hr_avg',
  'calories',
  'polyline',
] as const;

interface ListRow {
  activity_id: string;
  user_id: string;
  sport: string;
  version: string | number;
  start_ts: string | number;
  end_ts: string | number;
  elapsed_s: number;
  moving_s: number;
  distance_m: number;
  elev_gain_m: number;
  avg_speed_mps: number;
  hr_avg: number | null;
  calories: number;
  polyline: string;
}

/** Redis: the athlete of an activity id, once its row was found (docs/analytics.md) */
export const activityOwnerKey = (activityId: string) => `fitstream:activity-owner:${activityId}`;
const OWNER_TTL_S = 86_400;

export const activityRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const db = ident(deps.clickhouseDatabase);

  const select = <T>(query: string) => selectRows<T>(deps.clickhouse, query);
  // the list's rows, cached under the athlete's generation where the invalidator runs (deps.ts)
  const listRows = athleteRows(deps.activityGenerations ? redisStatsCache(deps.redis, 3600) : null, select);

  const checkAthlete = (req: FastifyRequest, userId: string) =>
    requireVisibleAthlete(deps.pg, principalOf(req), userId);

  app.get(
    '/activities',
    {
      config: { access: 'user' },
      schema: {
        tags: ['activities'],
        summary: "An athlete's activities (the caller's by default), newest first (latest version of each)",
        querystring: Type.Object({
          user_id: Type.Optional(
            Type.String({ format: 'uuid', description: 'the athlete; default: the caller' }),
          ),
          sport: Type.Optional(Sport),
          before: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: Number.MAX_SAFE_INTEGER,
              description: 'start time in epoch ms: page with the last start_ts',
            }),
          ),
          limit: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
        }),
        response: {
          200: Type.Object({ items: Type.Array(ActivityListItem) }),
          400: problemResponse('validation_failed'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const userId = q.user_id ?? principalOf(req).user_id;
      await checkAthlete(req, userId);
      const key = [`user_id = ${str(userId)}`];
      const where: string[] = [];
      if (userId !== principalOf(req).user_id) {
        // a coach sees every activity of the athlete but the private ones
        const hidden = await deps.pg.query<{ activity_id: string }>(
          `SELECT activity_id FROM activity_details WHERE user_id = $1 AND visibility = 'private'`,
          [userId],
        );
        if (hidden.rows.length > 0)
          key.push(`activity_id NOT IN (${hidden.rows.map((r) => str(r.activity_id)).join(', ')})`);
      }
      // sport and start_ts can change between versions: judged on the latest one, outside
      if (q.sport) where.push(`sport = ${str(q.sport)}`);
      if (q.before !== undefined) where.push(`start_ts < ${int(q.before)}`);
      const rows = await listRows<ListRow>(
        userId,
        `SELECT ${LIST_COLUMNS.join(', ')}
         FROM ${latestActivities(db, key.join(' AND '), LIST_COLUMNS)}
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY start_ts DESC LIMIT ${int(q.limit)}`,
      );
      return {
        items: rows.map((r) => ({
          ...r,
          version: Number(r.version),
          start_time: isoTime(Number(r.start_ts)),
          start_ts: Number(r.start_ts),
          end_time: isoTime(Number(r.end_ts)),
          end_ts: Number(r.end_ts),
        })),
      };
    },
  );

  /**
   * The latest stored row of an activity. Where the generation invalidator runs (deps.activityGenerations), a
   * repeat read asks Redis only: the activity's athlete is kept once found (an id never changes athlete), and
   * then the row is read through `listRows`, under that athlete's generation. An activities.v1 record of the
   * athlete (a new version, a sport change, a deletion) bumps it before its offset is committed, so a read
   * after the event is processed misses and reads ClickHouse. Visibility, tombstone and name still come from
   * PostgreSQL on every read (ownerOf).
   */
  const activityRow = async <T extends { user_id: string }>(id: string, columns: readonly string[]) => {
    if (!deps.activityGenerations) return select<T>(activityById(db, id, columns));
    const known = await deps.redis.get(activityOwnerKey(id)).catch(() => null);
    if (known) return listRows<T>(known, activityOfAthlete(db, known, id, columns));
    const rows = await select<T>(activityById(db, id, columns));
    if (rows[0])
      await deps.redis.set(activityOwnerKey(id), rows[0].user_id, 'EX', OWNER_TTL_S).catch(() => {});
    return rows;
  };

  /**
   * The activity's stored row (none while an upload is processing), its athlete (none: no such activity, or
   * deleted) and, for an upload, its session id.
   */
  const ownerOf = async (id: string) => {
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
    const [rows, upload, tombstone, detailRows] = await Promise.all([
      activityRow<{
        user_id: string;
        device_id: string;
        session_id: string;
        sport: string;
        version: string | number;
        summary: string;
      }>(id, ['user_id', 'device_id', 'session_id', 'sport', 'version', 'summary']),
      // an id that is no UUID names no upload (the column is uuid)
      isUuid
        ? deps.pg.query<{ user_id: string; idempotency_key: string | null }>(
            `SELECT user_id, idempotency_key FROM activity_uploads WHERE activity_id = $1
             UNION ALL SELECT user_id, NULL FROM imported_activities WHERE activity_id = $1 AND produced_at IS NOT NULL`,
            [id],
          )
        : Promise.resolve({ rows: [] }),
      tombstoneOf(deps.pg, id),
      deps.pg.query<Details>('SELECT name, notes, visibility FROM activity_details WHERE activity_id = $1', [
        id,
      ]),
    ]);
    const row = tombstone ? undefined : rows[0];
    const up = upload.rows[0];
    const owner = tombstone ? undefined : (row?.user_id ?? up?.user_id);
    const uploadSession = up?.idempotency_key ? uploadSessionId(up.user_id, up.idempotency_key) : undefined;
    const details: Details = detailRows.rows[0] ?? { name: null, notes: null, visibility: 'followers' };
    return [row, owner, { tombstone, uploadSession, details }] as const;
  };

  /** The activity's athlete, if the caller may see the activity; else 404 (as for no such activity). */
  const seenOwner = async (req: FastifyRequest, id: string, owner: string | undefined, d: Details) => {
    if (!owner || !(await visibleActivity(deps.pg, principalOf(req), owner, d.visibility)))
      throw new ApiError('not_found', `activity ${id} not found`);
    return owner;
  };

  app.patch(
    '/activities/:activityId',
    {
      config: { access: 'user' },
      schema: {
        tags: ['activities'],
        summary:
          "Edit an activity (its athlete only): name and notes (null clears one), visibility, and type — a change of sport has the worker compute the activity again under that sport's thresholds, as a new version. Repeating it is harmless",
        params: Type.Object({ activityId: Id }),
        body: Type.Object(
          {
            name: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 200 })),
            notes: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 10_000 })),
            visibility: Type.Optional(Visibility),
            type: Type.Optional(RecordedSport),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: {
          200: Type.Object({
            activity_id: Type.String(),
            name: Type.Union([Type.String(), Type.Null()]),
            notes: Type.Union([Type.String(), Type.Null()]),
            visibility: Visibility,
            type: Type.Union([Type.String(), Type.Null()], {
              description:
                'the sport; after a change, the new one (the worker computes the activity again within seconds, as a higher version); null while an upload is processing',
            }),
          }),
          400: problemResponse('validation_failed', 'invalid_json'),
          403: problemResponse('forbidden'),
          404: problemResponse('not_found'),
          409: problemResponse('conflict'),
        },
      },
    },
    async (req) => {
      const id = req.params.activityId;
      const caller = principalOf(req);
      const [row, found, { details }] = await ownerOf(id);
      const owner = await seenOwner(req, id, found, details);
      if (owner !== caller.user_id) throw new ApiError('forbidden', 'only the athlete edits their activity');
      const b = req.body;
      let sport = row?.sport ?? null;
      if (b.type !== undefined && b.type !== sport) {
        if (!row)
          throw new ApiError(
            'conflict',
            'the activity is still processing: change its type once it is ready',
          );
        if (row.sport === 'strength') throw new ApiError('conflict', 'a strength session has no other type');
        const telemetry = deps.telemetry;
        if (!telemetry)
          throw new ApiError('dependency_unavailable', 'recomputation is not configured (no Kafka)');
        // A `sport` control on the session's own key: the worker computes the session again from its stored
        // samples, as that sport from now on (a later sample does not undo it), as a higher version.
        const now = Date.now();
        try {
          await telemetry.send(row.session_id, [
            {
              name: 'SessionControl',
              value: {
                deviceId: row.device_id,
                userId: owner,
                sessionId: row.session_id,
                kind: 'sport',
                sport: b.type,
                ts: now,
                receivedAt: now,
              },
            },
          ]);
        } catch (err) {
          throw new ApiError('dependency_unavailable', 'Kafka did not acknowledge the change of type', {
            cause: err,
          });
        }
        sport = b.type;
      }
      const { rows } = await deps.pg.query<Details>(
        `INSERT INTO activity_details (activity_id, user_id, name, notes, visibility)
         VALUES ($1, $2, $3, $4, COALESCE($7, 'followers'))
         ON CONFLICT (activity_id) DO UPDATE SET
           name = CASE WHEN $5 THEN EXCLUDED.name ELSE activity_details.name END,
           notes = CASE WHEN $6 THEN EXCLUDED.notes ELSE activity_details.notes END,
           visibility = COALESCE($7, activity_details.visibility),
           updated_at = now()
         RETURNING name, notes, visibility`,
        [id, owner, b.name ?? null, b.notes ?? null, 'name' in b, 'notes' in b, b.visibility ?? null],
      );
      const d = rows[0]!;
      return { activity_id: id, name: d.name, notes: d.notes, visibility: d.visibility, type: sport };
    },
  );

  app.delete(
    '/activities/:activityId',
    {
      config: { access: 'user' },
      schema: {
        tags: ['activities'],
        summary:
          'Delete an activity (its athlete only): it and its samples leave every read model, ActivityDeleted goes out on activities.v1, and a late sample does not bring it back. Repeating it answers 204 again',
        params: Type.Object({ activityId: Id }),
        response: {
          204: Type.Null({ description: 'deleted (also when it was deleted before)' }),
          400: problemResponse('validation_failed'),
          403: problemResponse('forbidden'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req, reply) => {
      const id = req.params.activityId;
      const caller = principalOf(req);
      const [row, owner, { tombstone, uploadSession, details }] = await ownerOf(id);
      const finish = async <T>(f: () => Promise<T>): Promise<T> => {
        try {
          return await f();
        } catch (err) {
          if (err instanceof ApiError) throw err;
          throw new ApiError(
            'dependency_unavailable',
            'the deletion is stored; ClickHouse or Kafka did not answer',
            {
              cause: err,
            },
          );
        }
      };
      if (tombstone) {
        // deleted before: the athlete's repeat is harmless (and finishes what the first left undone)
        if (tombstone.user_id !== caller.user_id) throw new ApiError('not_found', `activity ${id} not found`);
        if (!tombstone.purged || !tombstone.announced) await finish(() => finishDeletion(deps, tombstone));
        return reply.code(204).send(null);
      }
      await seenOwner(req, id, owner, details);
      if (owner !== caller.user_id)
        throw new ApiError('forbidden', 'only the athlete deletes their activity');
      await finish(() =>
        deleteActivity(deps, {
          activityId: id,
          userId: owner!,
          deviceId: row?.device_id ?? (uploadSession ? UPLOAD_DEVICE_ID : null),
          sessionId: row?.session_id ?? uploadSession ?? null,
          version: row ? Number(row.version) : 0,
        }),
      );
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/activities/:activityId',
    {
      config: { access: 'user' },
      schema: {
        tags: ['activities'],
        summary:
          'One activity: `processing` while an upload is on its way through the worker, then `ready` with the full summary (laps, splits, best efforts, zones, polyline) of its latest version, or `failed` with a reason code when the worker could not compute or store it',
        params: Type.Object({ activityId: Id }),
        response: {
          200: Type.Object({
            activity_id: Type.String(),
            status: Type.Union([Type.Literal('processing'), Type.Literal('ready'), Type.Literal('failed')], {
              description:
                'processing: an upload or import on its way through the worker; ready: stored (the summary below); failed: the worker could not compute or store it (see failure)',
            }),
            failure: Type.Union([
              Type.Object(
                {
                  reason: Type.String({
                    description:
                      "stable code: the worker's dead-letter reason (docs/payloads.md), e.g. finalise_failed (the activity could not be computed or stored) or sink_rejected",
                  }),
                  failed_at: Type.String({ format: 'date-time' }),
                },
                {
                  description: 'why a failed upload or import has no activity; null unless status is failed',
                },
              ),
              Type.Null(),
            ]),
            name: Type.Union([Type.String(), Type.Null()]),
            notes: Type.Union([Type.String(), Type.Null()]),
            visibility: Visibility,
            version: Type.Union([Type.Integer(), Type.Null()]),
            summary: Type.Union([
              Type.Record(Type.String(), Type.Unknown(), {
                description: 'the summary the worker computed (docs/analytics.md), with snake_case keys',
              }),
              Type.Null(),
            ]),
            device_totals: Type.Union([
              Type.Record(Type.String(), Type.Unknown(), {
                description:
                  "an imported activity's totals as its file states them (FIT session, TCX laps: distance_m, timer_s, elapsed_s, ascent_m, descent_m, hr_avg, hr_max, calories, laps), beside Fitstream's own numbers in summary; null for GPX, uploads and live sessions (docs/imports.md)",
              }),
              Type.Null(),
            ]),
          }),
          400: problemResponse('validation_failed'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      const id = req.params.activityId;
      const [row, owner, { details }] = await ownerOf(id);
      await seenOwner(req, id, owner, details);
      const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
      const [imported, failed] = await Promise.all([
        isUuid
          ? deps.pg.query<{ device_totals: Record<string, unknown> | null }>(
              'SELECT device_totals FROM imported_activities WHERE activity_id = $1',
              [id],
            )
          : { rows: [] as { device_totals: Record<string, unknown> | null }[] },
        // a stored activity outranks a failure recorded before it (a replay, or new data, computed it since)
        isUuid && !row
          ? deps.pg.query<{ reason: string; failed_at: Date }>(
              'SELECT reason, failed_at FROM activity_failures WHERE activity_id = $1',
              [id],
            )
          : { rows: [] as { reason: string; failed_at: Date }[] },
      ]);
      const failure = failed.rows[0];
      return {
        activity_id: id,
        status: row ? ('ready' as const) : failure ? ('failed' as const) : ('processing' as const),
        failure: failure ? { reason: failure.reason, failed_at: failure.failed_at.toISOString() } : null,
        name: details.name,
        notes: details.notes,
        visibility: details.visibility,
        version: row ? Number(row.version) : null,
        summary: row ? (snakeKeys(JSON.parse(row.summary)) as Record<string, unknown>) : null,
        device_totals: imported.rows[0]?.device_totals ?? null,
      };
    },
  );

  app.get(
    '/activities/:activityId/export',
    {
      config: { access: 'user' },
      schema: {
        tags: ['activities'],
        summary:
          'The activity as a file other tools open, from the samples as recorded (an import of it computes the same figures): `gpx` GPX 1.1 with the Garmin TrackPointExtension (heart rate, cadence, speed) and PowerExtension; `tcx` Garmin TCX v2 with its laps and their totals, a new Track after each pause, speed, power and run cadence in ActivityExtension v2; `fit` a FIT activity file written with the Garmin FIT SDK (file_id, device_info, records, laps, timer events for pauses, session, activity)',
        params: Type.Object({ activityId: Id }),
        querystring: Type.Object({
          format: Type.Union([Type.Literal('gpx'), Type.Literal('tcx'), Type.Literal('fit')]),
        }),
        produces: [...new Set(Object.values(EXPORT_TYPES))],
        response: {
          200: Type.Unsafe<string | Buffer>({
            type: 'string',
            format: 'binary',
            description: 'the file: GPX or TCX (XML), or FIT (binary)',
          }),
          400: problemResponse('validation_failed'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req, reply) => {
      const id = req.params.activityId;
      const [row, found, { details }] = await ownerOf(id);
      const owner = await seenOwner(req, id, found, details);
      if (!row) throw new ApiError('not_found', `activity ${id} is still processing`);
      const file = await exportFile(deps, req.query.format, owner, row, details.name);
      // a FIT Buffer goes out as it is (fastify serialises no Buffer); the schema's string is the XML formats'
      return reply
        .type(EXPORT_TYPES[req.query.format])
        .header('content-disposition', `attachment; filename="${id}.${req.query.format}"`)
        .send(file);
    },
  );

  const StreamData = Type.Array(Type.Unknown());
  app.get(
    '/activities/:activityId/streams',
    {
      config: { access: 'user' },
      schema: {
        tags: ['activities'],
        summary:
          "The activity's streams (latest version), one value per sample or at a resolution: `time` (s from the start), `latlng` ([lat, lng] smoothed; `raw` as recorded), `distance` (m, cleaned cumulative), `altitude` (m, smoothed; `raw` as recorded), `heartrate` (bpm, artefacts removed), `velocity_smooth` (m/s), `cadence`, `watts`, `moving` (false in pauses); null where the sample has no value. Read from one row of activity_streams",
        params: Type.Object({ activityId: Id }),
        querystring: Type.Object({
          keys: Type.Optional(
            Type.String({
              pattern: `^(${STREAM_KEYS.join('|')})(,(${STREAM_KEYS.join('|')}))*$`,
              description: `comma-separated stream keys (default: all of ${STREAM_KEYS.join(', ')})`,
            }),
          ),
          resolution: Type.Optional(
            Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')], {
              description:
                'low: 100 points, medium: 1000, high: 10 000 (evenly spread); default: every sample',
            }),
          ),
        }),
        response: {
          200: Type.Object({
            activity_id: Type.String(),
            version: Type.Integer(),
            original_size: Type.Integer({ description: 'samples in the activity' }),
            size: Type.Integer({ description: 'points in each stream returned' }),
            resolution: Type.Union([
              Type.Literal('low'),
              Type.Literal('medium'),
              Type.Literal('high'),
              Type.Literal('all'),
            ]),
            series_type: Type.Literal('time'),
            streams: Type.Object(
              Object.fromEntries(
                STREAM_KEYS.map((k) => [
                  k,
                  Type.Optional(Type.Object({ data: StreamData, raw: Type.Optional(StreamData) })),
                ]),
              ),
            ),
          }),
          400: problemResponse('validation_failed'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      const id = req.params.activityId;
      const [row, found, { details }] = await ownerOf(id);
      const owner = await seenOwner(req, id, found, details);
      // one row: the latest version of this activity's streams (ORDER BY key prefix user_id, activity_id;
      // PREWHERE on the id: the arrays are read only from the part that holds it, see activityOfAthlete)
      const streams = row
        ? await select<StreamsRow>(
            `SELECT version, ts, lat, lon, lat_smooth, lon_smooth, alt, alt_smooth, speed, distance_m,
                    hr, cadence, power, flags, present
             FROM ${db}.activity_streams
             PREWHERE activity_id = ${str(id)}
             WHERE user_id = ${str(owner)}
             ORDER BY version DESC LIMIT 1`,
          )
        : [];
      if (!streams[0]) throw new ApiError('not_found', `activity ${id} has no streams yet`);
      const keys = req.query.keys ? ([...new Set(req.query.keys.split(','))] as StreamKey[]) : STREAM_KEYS;
      return { activity_id: id, ...buildStreams(streams[0], keys, req.query.resolution) };
    },
  );

  app.post(
    '/activities',
    {
      config: { access: 'user' },
      bodyLimit: UPLOAD_LIMITS.maxBytes,
      schema: {
        tags: ['activities'],
        summary:
          'Upload a finished workout (recorded points, strength sets, or a manual entry of duration and distance): sent through telemetry.samples.v1 like a live session, computed by the worker; idempotent on the Idempotency-Key header (or client_activity_id)',
        headers: Type.Object({ 'idempotency-key': Type.Optional(IdempotencyKey) }),
        body: UploadSchema,
        response: {
          202: Accepted,
          400: problemResponse('validation_failed', 'invalid_json', 'idempotency_key_missing'),
          409: problemResponse('idempotency_key_reused'),
          413: problemResponse('payload_too_large', 'upload_too_many_points'),
          415: problemResponse('unsupported_media_type'),
          422: problemResponse('upload_span_too_long', 'upload_out_of_order'),
        },
      },
    },
    async (req, reply) => {
      const userId = principalOf(req).user_id;
      const body = req.body as UploadBody;
      const header = req.headers['idempotency-key'];
      const key = header ?? body.client_activity_id;
      if (key === undefined)
        throw new ApiError('idempotency_key_missing', 'send an Idempotency-Key header or client_activity_id');
      if (header !== undefined && body.client_activity_id !== undefined && header !== body.client_activity_id)
        throw new ApiError('validation_failed', 'Idempotency-Key and client_activity_id differ');
      const plan = planUpload(userId, key, body, Date.now());
      const telemetry = deps.telemetry;
      if (!telemetry) throw new ApiError('dependency_unavailable', 'uploads are not configured (no Kafka)');
      // Key -> body hash first: a concurrent retry either inserts nothing and compares, or is the one that
      // inserted. Both go on to send: the records are the same and the worker keeps one copy of each.
      // No conflict target: the activity id (derived from the key) has a unique index of its own, and a
      // concurrent insert that meets the other request's row there first would otherwise fail with 23505.
      // Either index's conflict is the same row.
      const claim = () =>
        deps.pg.query<{ body_sha256: string; produced: boolean }>(
          `WITH ins AS (
           INSERT INTO activity_uploads (user_id, idempotency_key, body_sha256, activity_id, kind)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING
           RETURNING body_sha256, false AS produced)
         SELECT body_sha256, produced FROM ins
         UNION ALL
         SELECT body_sha256, produced_at IS NOT NULL FROM activity_uploads
         WHERE user_id = $1 AND idempotency_key = $2 AND NOT EXISTS (SELECT 1 FROM ins)`,
          [userId, key, plan.bodySha256, plan.activityId, plan.kind],
        );
      // A concurrent first request may commit between this statement's snapshot and its insert: the insert
      // then does nothing and the snapshot does not show the row yet. The next statement sees it.
      const stored = (await claim()).rows[0] ?? (await claim()).rows[0]!;
      if (stored.body_sha256 !== plan.bodySha256)
        throw new ApiError('idempotency_key_reused', `the key ${key} was used with another body`);
      // the upload's name and notes, unless a PATCH came first (a retry must not undo an edit)
      if (!stored.produced && (body.name !== undefined || body.notes !== undefined))
        await deps.pg.query(
          `INSERT INTO activity_details (activity_id, user_id, name, notes) VALUES ($1, $2, $3, $4)
           ON CONFLICT (activity_id) DO NOTHING`,
          [plan.activityId, userId, body.name ?? null, body.notes ?? null],
        );
      if (!stored.produced) {
        try {
          await telemetry.send(plan.sessionId, plan.records);
        } catch (err) {
          throw new ApiError('dependency_unavailable', 'Kafka did not acknowledge the upload', {
            cause: err,
          });
        }
        await deps.pg.query(
          'UPDATE activity_uploads SET produced_at = now() WHERE user_id = $1 AND idempotency_key = $2',
          [userId, key],
        );
      }
      reply.code(202);
      return { activity_id: uploadActivityId(userId, key), status: 'processing' as const };
    },
  );
};
