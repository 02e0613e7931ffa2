import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { isUuid, principalOf } from '../access.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { IMPORT_FILE_REASONS, IMPORT_LIMITS, IMPORT_REASONS, importId } from '../imports.js';
import { isoTime, JobStatus, problemResponse } from './shared.js';

/** What a body may be sent as; the format is read from the bytes, never from the type. */
export const IMPORT_CONTENT_TYPES = [
  'application/octet-stream',
  'application/zip',
  'application/gzip',
  'application/x-gzip',
  'application/gpx+xml',
  'application/vnd.garmin.tcx+xml',
  'application/vnd.ant.fit',
  'application/xml',
  'text/xml',
] as const;

const IdempotencyKey = Type.String({ pattern: '^[\\x21-\\x7e]{1,255}$' });
const nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) =>
  Type.Union([t, Type.Null()]);

const ImportFile = Type.Object({
  index: Type.Integer({
    description: 'position in the order the files are imported (FIT, TCX, GPX, then by name)',
  }),
  name: Type.String({ description: 'path in the zip; `upload` (or `upload.gz`) for a single file' }),
  format: nullable(Type.String({ description: 'gpx, tcx or fit, when the bytes were read that far' })),
  status: Type.Union([Type.Literal('imported'), Type.Literal('duplicate'), Type.Literal('failed')]),
  reason: nullable(
    Type.String({
      description: `why it failed, or a note on an imported file: one of ${IMPORT_FILE_REASONS.join(', ')} (docs/imports.md)`,
    }),
  ),
  detail: nullable(Type.String()),
  points: Type.Integer(),
  activities_created: Type.Integer(),
  duplicates_skipped: Type.Integer(),
  activity_ids: Type.Array(Type.String({ format: 'uuid' }), {
    description: 'the activities this file became, or the already imported ones it duplicates',
  }),
});

const ImportView = Type.Object({
  import_id: Type.String({ format: 'uuid' }),
  status: JobStatus,
  reason: nullable(
    Type.String({
      description: `why the whole import failed: one of ${IMPORT_REASONS.join(', ')}, attempts_exhausted`,
    }),
  ),
  detail: nullable(Type.String()),
  default_sport: Type.String(),
  bytes: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  finished_at: nullable(Type.String({ format: 'date-time' })),
  files_total: nullable(Type.Integer({ description: 'null until the upload was opened' })),
  files_done: Type.Integer(),
  files_failed: Type.Integer(),
  activities_created: Type.Integer(),
  duplicates_skipped: Type.Integer(),
  files: Type.Array(ImportFile),
});

interface ImportRow {
  id: string;
  user_id: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  reason: string | null;
  detail: string | null;
  default_sport: string;
  byte_size: string;
  created_at: Date;
  finished_at: Date | null;
  files_total: number | null;
}
interface FileRow {
  idx: number;
  name: string;
  format: string | null;
  status: 'imported' | 'duplicate' | 'failed';
  reason: string | null;
  detail: string | null;
  points: number;
  activities_created: number;
  duplicates_skipped: number;
  activity_ids: string[];
}

export const importRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  // In this plugin only: the body is the file's bytes, read whole within the import limit.
  app.addContentTypeParser(
    [...IMPORT_CONTENT_TYPES],
    { parseAs: 'buffer', bodyLimit: IMPORT_LIMITS.maxBodyBytes },
    (_req, body, done) => done(null, body),
  );

  app.post(
    '/imports',
    {
      config: { access: 'user' },
      bodyLimit: IMPORT_LIMITS.maxBodyBytes,
      schema: {
        tags: ['imports'],
        summary:
          'Import a GPX, TCX or FIT file (optionally gzip) or a zip of many: stored, then imported in the background; follow GET /v1/imports/{id}. Idempotent on the Idempotency-Key header (default: the body digest)',
        description: `Send the file's bytes as the body with one of the content types ${IMPORT_CONTENT_TYPES.join(', ')}; the format is read from the bytes. Limits: body ${IMPORT_LIMITS.maxBodyBytes} bytes, ${IMPORT_LIMITS.maxEntries} files in a zip, ${IMPORT_LIMITS.maxFileBytes} bytes per file unpacked, ${IMPORT_LIMITS.maxTotalBytes} bytes for all files of a zip unpacked (docs/imports.md).`,
        headers: Type.Object({ 'idempotency-key': Type.Optional(IdempotencyKey) }),
        querystring: Type.Object({
          // optional in the document as in fact (a default alone still lists it as required: schemathesis ST201)
          default_sport: Type.Optional(
            Type.Union(
              [
                Type.Literal('running'),
                Type.Literal('cycling'),
                Type.Literal('walking'),
                Type.Literal('hiking'),
              ],
              { default: 'running', description: 'the sport of a file that names none Fitstream has' },
            ),
          ),
        }),
        response: {
          202: Type.Object({ import_id: Type.String({ format: 'uuid' }), status: JobStatus }),
          409: problemResponse('idempotency_key_reused'),
          413: problemResponse('payload_too_large'),
          415: problemResponse('unsupported_media_type'),
        },
      },
    },
    async (req, reply) => {
      const userId = principalOf(req).user_id;
      const imports = deps.imports;
      if (!imports) throw new ApiError('dependency_unavailable', 'imports are not configured (no S3)');
      const body = req.body as Buffer | undefined;
      const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
      const sha = createHash('sha256').update(bytes).digest('hex');
      const key = req.headers['idempotency-key'] ?? `sha256:${sha}`;
      const id = importId(userId, key);
      const existing = async () =>
        (
          await deps.pg.query<{ body_sha256: string; status: ImportRow['status'] }>(
            'SELECT body_sha256, status FROM imports WHERE user_id = $1 AND idempotency_key = $2',
            [userId, key],
          )
        ).rows[0];
      let row = await existing();
      if (!row) {
        const objectKey = imports.store.keyFor(userId, id);
        // the bytes are durable before the job row names them, and both before the 202
        try {
          await imports.store.put(objectKey, bytes);
        } catch (err) {
          throw new ApiError('dependency_unavailable', 'S3 did not store the upload', { cause: err });
        }
        // no conflict target: the id (derived from the key) is a unique index too, and a concurrent first
        // request can meet the other's row there first (23505); either conflict is the same import
        await deps.pg.query(
          `INSERT INTO imports (id, user_id, idempotency_key, body_sha256, object_key, byte_size, default_sport, queue)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT DO NOTHING`,
          [
            id,
            userId,
            key,
            sha,
            objectKey,
            bytes.length,
            req.query.default_sport ?? 'running',
            imports.queue,
          ],
        );
        row = (await existing())!;
        imports.wake();
      }
      if (row.body_sha256 !== sha)
        throw new ApiError('idempotency_key_reused', `the key ${key} was used with another file`);
      reply.code(202);
      return { import_id: id, status: row.status };
    },
  );

  app.get(
    '/imports/:importId',
    {
      config: { access: 'user' },
      schema: {
        tags: ['imports'],
        summary:
          'An import: files total and done, activities created, duplicates skipped, and each file with its result and reason code (its athlete only)',
        params: Type.Object({ importId: Type.String({ maxLength: 64 }) }),
        response: { 200: ImportView, 404: problemResponse('not_found') },
      },
    },
    async (req) => {
      const id = req.params.importId;
      const notFound = new ApiError('not_found', `import ${id} not found`);
      if (!isUuid(id)) throw notFound;
      const { rows } = await deps.pg.query<ImportRow>(
        `SELECT id, user_id, status, reason, detail, default_sport, byte_size, created_at, finished_at, files_total
         FROM imports WHERE id = $1`,
        [id],
      );
      const imp = rows[0];
      // an import is its athlete's only: a coach sees the activities, not the uploads
      if (!imp || imp.user_id !== principalOf(req).user_id) throw notFound;
      const files = (
        await deps.pg.query<FileRow>(
          `SELECT idx, name, format, status, reason, detail, points, activities_created, duplicates_skipped,
                  activity_ids::text[] AS activity_ids
           FROM import_files WHERE import_id = $1 ORDER BY idx`,
          [id],
        )
      ).rows;
      const sum = (k: 'activities_created' | 'duplicates_skipped') => files.reduce((n, f) => n + f[k], 0);
      return {
        import_id: imp.id,
        status: imp.status,
        reason: imp.reason,
        detail: imp.detail,
        default_sport: imp.default_sport,
        bytes: Number(imp.byte_size),
        created_at: isoTime(imp.created_at.getTime()),
        finished_at: imp.finished_at ? isoTime(imp.finished_at.getTime()) : null,
        files_total: imp.files_total,
        files_done: files.length,
        files_failed: files.filter((f) => f.status === 'failed').length,
        activities_created: sum('activities_created'),
        duplicates_skipped: sum('duplicates_skipped'),
        files: files.map(({ idx, ...f }) => ({ index: idx, ...f })),
      };
    },
  );
};
