import { PassThrough, Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ZipFile } from 'yazl';
import { ident, str } from '../../common/clickhouse-sql.js';
import { principalOf } from '../access.js';
import { type ExportRow, exportFile } from '../activity-export.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { latestActivities } from '../latest-activities.js';
import { isoTime, problemResponse, selectRows, snakeKeys } from './shared.js';

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

/** The account export (issue 13): everything of the caller as one zip, streamed (docs/exports.md). */
export const accountExportRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const db = ident(deps.clickhouseDatabase);

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
      const authorization = req.headers.authorization;
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
        deps.pg.query<{ activity_id: string }>(
          'SELECT activity_id FROM deleted_activities WHERE user_id = $1',
          [userId],
        ),
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
};
