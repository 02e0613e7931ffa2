import { randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ZipFile } from 'yazl';
import { ident, str } from '../../common/clickhouse-sql.js';
import { isUuid, principalOf } from '../access.js';
import { EXPORT_TTL_MS, ExportRunner } from '../account-exports.js';
import { type ExportRow, exportFile } from '../activity-export.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { latestActivities } from '../latest-activities.js';
import { isoTime, JobStatus, problemResponse, selectRows, snakeKeys } from './shared.js';

/**
 * The caller's own resources as JSON, each the API's own answer to the caller for that route (same schema as
 * documented in OpenAPI), so the export shows what the API shows and no second query of them can drift.
 */
const JSON_PARTS: readonly (readonly [file: string, url: string])[] = [
  ['profile.json', '/v1/users/me'],
  ['devices.json', '/v1/devices'],
  ['goals.json', '/v1/goals'],
  ['coach-grants.json', '/v1/coach-grants'],
  ['groups.json', '/v1/groups'],
  ['streaks.json', '/v1/streaks'],
];

interface ActivityRow {
  activity_id: string;
  start_ts: string | number;
}

/**
 * The account's zip (docs/exports.md), its entries added and the zip ended: read `zip.outputStream`; an error
 * after the first byte is emitted on `zip`. Everything that can fail before the first byte is read first (an
 * outage throws ApiError dependency_unavailable). The JSON parts are the API's own answers to `authorization`.
 */
export async function accountZip(
  app: FastifyInstance,
  deps: ApiDeps,
  userId: string,
  authorization: string | undefined,
): Promise<ZipFile> {
  const db = ident(deps.clickhouseDatabase);
  // Everything that can fail before the first byte is read first, so an outage still gets its 503.
  const parts = await Promise.all(
    JSON_PARTS.map(async ([file, url]) => {
      const r = await app.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });
      if (r.statusCode !== 200)
        throw new ApiError('dependency_unavailable', `${url} answered ${r.statusCode} while exporting`);
      return [file, Buffer.from(JSON.stringify(r.json(), null, 2))] as const;
    }),
  );
  const [activities, deleted, details] = await Promise.all([
    selectRows<ActivityRow>(
      deps.clickhouse,
      `SELECT activity_id, start_ts FROM ${latestActivities(db, `user_id = ${str(userId)}`, ['start_ts'])}
       ORDER BY start_ts, activity_id`,
    ),
    deps.pg.query<{ activity_id: string }>('SELECT activity_id FROM deleted_activities WHERE user_id = $1', [
      userId,
    ]),
    deps.pg.query<{ activity_id: string; name: string | null; notes: string | null; visibility: string }>(
      'SELECT activity_id, name, notes, visibility FROM activity_details WHERE user_id = $1',
      [userId],
    ),
  ]).catch((err) => {
    if (err instanceof ApiError) throw err;
    throw new ApiError('dependency_unavailable', 'PostgreSQL did not answer', { cause: err });
  });
  const gone = new Set(deleted.rows.map((r) => r.activity_id));
  const detailOf = new Map(details.rows.map((r) => [r.activity_id, r]));
  const kept = activities.filter((a) => !gone.has(a.activity_id));

  const zip = new ZipFile();
  for (const [file, bytes] of parts) zip.addBuffer(bytes, file);
  // One activity at a time: yazl asks for an entry's stream only when it reaches it, so memory holds one
  // activity's files, whatever the size of the account. Its FIT and GPX come from one read.
  const listed: unknown[] = [];
  let pending: { id: string; files: Promise<{ fit: Buffer; gpx: string } | null> } | undefined;
  const filesOf = (id: string) => {
    if (pending?.id !== id) pending = { id, files: loadActivity(id) };
    return pending.files;
  };
  const loadActivity = async (id: string) => {
    const [row] = await selectRows<ExportRow & { version: string | number }>(
      deps.clickhouse,
      `SELECT device_id, session_id, sport, version, summary FROM ${latestActivities(
        db,
        `user_id = ${str(userId)} AND activity_id = ${str(id)}`,
        ['device_id', 'session_id', 'sport', 'summary'],
      )}`,
    );
    if (!row) return null; // deleted since the list was read
    const d = detailOf.get(id);
    const name = d?.name ?? null;
    listed.push({
      activity_id: id,
      sport: row.sport,
      version: Number(row.version),
      name,
      notes: d?.notes ?? null,
      visibility: d?.visibility ?? 'followers',
      files: { fit: `activities/${id}.fit`, gpx: `activities/${id}.gpx` },
      summary: snakeKeys(JSON.parse(row.summary)),
    });
    const [fit, gpx] = await Promise.all([
      exportFile(deps, 'fit', userId, row, name),
      exportFile(deps, 'gpx', userId, row, name),
    ]);
    return { fit: fit as Buffer, gpx: gpx as string };
  };
  const lazy = (path: string, make: () => Promise<Buffer | string>, mtime?: Date) =>
    zip.addReadStreamLazy(path, mtime ? { mtime } : {}, (cb) => {
      make().then(
        (bytes) => cb(null, Readable.from([typeof bytes === 'string' ? Buffer.from(bytes) : bytes])),
        (err: Error) => cb(err, undefined as unknown as Readable),
      );
    });
  for (const a of kept) {
    const mtime = new Date(Number(a.start_ts));
    lazy(
      `activities/${a.activity_id}.fit`,
      async () => (await filesOf(a.activity_id))?.fit ?? Buffer.alloc(0),
      mtime,
    );
    lazy(`activities/${a.activity_id}.gpx`, async () => (await filesOf(a.activity_id))?.gpx ?? '', mtime);
  }
  lazy('activities.json', async () =>
    JSON.stringify({ exported_at: isoTime(Date.now()), items: listed }, null, 2),
  );
  zip.end();
  return zip;
}

/** The account export (issue 13): everything of the caller as one zip, streamed (docs/exports.md). */
export const accountExportRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/users/me/export',
    {
      config: { access: 'user' },
      schema: {
        tags: ['users'],
        summary:
          "Everything of the caller as a zip, streamed: profile, devices, goals, coach grants, groups and streaks as JSON (each the API's own answer for that route), `activities.json` (every stored activity with its name, notes, visibility and summary) and each activity as FIT and GPX under `activities/`. Activities still processing and deleted ones are left out. A failure after the first byte aborts the download (the zip is then incomplete and does not open): download again",
        produces: ['application/zip'],
        response: {
          200: Type.Unsafe<Readable>({ type: 'string', format: 'binary', description: 'the zip' }),
          503: problemResponse('dependency_unavailable'),
        },
      },
    },
    async (req, reply) => {
      const userId = principalOf(req).user_id;
      const zip = await accountZip(app, deps, userId, req.headers.authorization);
      // yazl's stream ends on success; an error of a lazy entry is emitted on the zip: abort the download
      const body = new PassThrough();
      zip.outputStream.pipe(body);
      zip.on('error', (err: Error) => {
        req.log.warn({ err: err.message, userId }, 'account export failed after the first byte');
        body.destroy(err);
      });
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="fitstream-export-${userId}.zip"`)
        .send(body);
    },
  );

  // ---- the export as a job (docs/exports.md, "As a job"): for an account too large for one long request ----
  const jobs = deps.exports;
  const ttlMs = jobs?.ttlMs ?? EXPORT_TTL_MS;
  const runner = jobs
    ? new ExportRunner({
        pg: deps.pg,
        store: jobs.store,
        queue: jobs.queue,
        ttlMs,
        logger: app.log,
        // the JSON parts are the API's answers to the athlete: asked with an access token of theirs, minted
        // for this export (no roles)
        zipOf: async (userId, exportId) =>
          accountZip(
            app,
            deps,
            userId,
            `Bearer ${await deps.auth.tokens.sign({ user_id: userId, roles: [], session_id: `export-${exportId}` })}`,
          ),
      })
    : undefined;
  if (runner) {
    app.addHook('onReady', async () => runner.start());
    app.addHook('onClose', async () => runner.close());
  }
  const needJobs = () => {
    if (!jobs || !runner)
      throw new ApiError('dependency_unavailable', 'account exports are not configured (no S3)');
    return { jobs, runner };
  };
  const ExportView = Type.Object({
    export_id: Type.String({ format: 'uuid' }),
    status: JobStatus,
    reason: Type.Union([Type.String({ description: 'why it failed: attempts_exhausted' }), Type.Null()]),
    created_at: Type.String({ format: 'date-time' }),
    finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    bytes: Type.Union([Type.Integer({ description: "the zip's size once stored" }), Type.Null()]),
    download: Type.Union([
      Type.String({
        description: 'where to download the zip once done: GET this path with the access token',
      }),
      Type.Null(),
    ]),
    expires_at: Type.Union([
      Type.String({
        format: 'date-time',
        description: 'when a finished export is removed (a week after it finished); then it answers 404',
      }),
      Type.Null(),
    ]),
  });
  interface ExportRow {
    id: string;
    user_id: string;
    status: 'queued' | 'running' | 'done' | 'failed';
    reason: string | null;
    object_key: string;
    byte_size: string | null;
    created_at: Date;
    finished_at: Date | null;
  }
  const viewOf = (r: ExportRow) => ({
    export_id: r.id,
    status: r.status,
    reason: r.reason,
    created_at: isoTime(r.created_at.getTime()),
    finished_at: r.finished_at ? isoTime(r.finished_at.getTime()) : null,
    bytes: r.byte_size === null ? null : Number(r.byte_size),
    download: r.status === 'done' ? `/v1/users/me/exports/${r.id}/download` : null,
    expires_at: r.finished_at ? isoTime(r.finished_at.getTime() + ttlMs) : null,
  });
  /** the caller's export, or 404 as for what is not there */
  const exportOf = async (userId: string, id: string): Promise<ExportRow> => {
    const notFound = new ApiError('not_found', `export ${id} not found`);
    if (!isUuid(id)) throw notFound;
    const { rows } = await deps.pg.query<ExportRow>(
      `SELECT id, user_id, status, reason, object_key, byte_size, created_at, finished_at
       FROM account_exports WHERE id = $1`,
      [id],
    );
    if (!rows[0] || rows[0].user_id !== userId) throw notFound;
    return rows[0];
  };

  app.post(
    '/users/me/exports',
    {
      config: { access: 'user' },
      schema: {
        tags: ['users'],
        summary:
          'Start an export of everything of the caller as a job: the zip of GET /v1/users/me/export, written in the background and kept in S3; follow GET /v1/users/me/exports/{id}. While one of the caller is queued or running, that one is answered again',
        response: {
          202: Type.Object({ export_id: Type.String({ format: 'uuid' }), status: JobStatus }),
          503: problemResponse('dependency_unavailable'),
        },
      },
    },
    async (req, reply) => {
      const { jobs, runner } = needJobs();
      const userId = principalOf(req).user_id;
      const c = await deps.pg.connect();
      let row: { id: string; status: ExportRow['status'] };
      try {
        await c.query('BEGIN');
        // one pending export per athlete: concurrent POSTs meet at the lock and answer the same one
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`export:${userId}`]);
        const pending = await c.query<{ id: string; status: ExportRow['status'] }>(
          `SELECT id, status FROM account_exports WHERE user_id = $1 AND status IN ('queued', 'running')
           ORDER BY created_at LIMIT 1`,
          [userId],
        );
        if (pending.rows[0]) row = pending.rows[0];
        else {
          const id = randomUUID();
          await c.query(
            'INSERT INTO account_exports (id, user_id, object_key, queue) VALUES ($1, $2, $3, $4)',
            [id, userId, jobs.store.keyFor(userId, id), jobs.queue],
          );
          row = { id, status: 'queued' };
        }
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
      runner.wake();
      reply.code(202);
      return { export_id: row.id, status: row.status };
    },
  );

  app.get(
    '/users/me/exports/:exportId',
    {
      config: { access: 'user' },
      schema: {
        tags: ['users'],
        summary:
          "An export of the caller's (POST /v1/users/me/exports): its status, and where to download it once done",
        params: Type.Object({ exportId: Type.String({ maxLength: 64 }) }),
        response: { 200: ExportView, 404: problemResponse('not_found') },
      },
    },
    async (req) => viewOf(await exportOf(principalOf(req).user_id, req.params.exportId)),
  );

  app.get(
    '/users/me/exports/:exportId/download',
    {
      config: { access: 'user' },
      schema: {
        tags: ['users'],
        summary: "The zip of a done export of the caller's (the same entries as GET /v1/users/me/export)",
        params: Type.Object({ exportId: Type.String({ maxLength: 64 }) }),
        produces: ['application/zip'],
        response: {
          200: Type.Unsafe<Readable>({ type: 'string', format: 'binary', description: 'the zip' }),
          404: problemResponse('not_found'),
          409: problemResponse('export_not_ready'),
          503: problemResponse('dependency_unavailable'),
        },
      },
    },
    async (req, reply) => {
      const { jobs } = needJobs();
      const userId = principalOf(req).user_id;
      const row = await exportOf(userId, req.params.exportId);
      if (row.status !== 'done') throw new ApiError('export_not_ready', `export ${row.id} is ${row.status}`);
      let object: Awaited<ReturnType<typeof jobs.store.get>>;
      try {
        object = await jobs.store.get(row.object_key);
      } catch (err) {
        throw new ApiError('dependency_unavailable', 'S3 did not answer; try again', { cause: err });
      }
      return reply
        .type('application/zip')
        .header('content-length', object.bytes)
        .header('content-disposition', `attachment; filename="fitstream-export-${userId}.zip"`)
        .send(object.body);
    },
  );
};
