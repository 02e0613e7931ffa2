import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * Where an import's uploaded bytes are kept (S3, `{prefix}/{user_id}/{import_id}`), written before the 202 so
 * that the runner, in this process or another after a restart, reads the same bytes.
 */
export interface ImportStore {
  put(key: string, bytes: Buffer): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** gone with the account (services/api/account-deletion.ts); removing what is not there is no error */
  remove(key: string): Promise<void>;
  keyFor(userId: string, importId: string): string;
}

export function s3ImportStore(s3: S3Client, bucket: string, prefix: string): ImportStore {
  const p = prefix.replace(/\/+$/, '');
  return {
    keyFor: (userId, importId) => `${p ? `${p}/` : ''}${userId}/${importId}`,
    async put(key, bytes) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: bytes,
          ContentLength: bytes.length,
          ContentType: 'application/octet-stream',
        }),
      );
    },
    async remove(key) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async get(key) {
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!r.Body) throw new Error(`s3://${bucket}/${key} has no body`);
      return Buffer.from(await r.Body.transformToByteArray());
    },
  };
}
