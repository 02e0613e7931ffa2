// S3 smoke test with the AWS SDK v3 (what the services use): PutObject, GetObject,
// ListObjectsV2, multipart upload (2 parts), DeleteObject. Exit code 0 when all pass.
// Usage: node infra/local/lib/s3-smoke.mjs [endpoint] [bucket]
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

const endpoint = process.argv[2] ?? 'http://127.0.0.1:9002';
const Bucket = process.argv[3] ?? 'fitstream-archive';
const s3 = new S3Client({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'fitstream', secretAccessKey: 'fitstream-secret' },
});
const prefix = `smoke/${Date.now()}`;
const t0 = Date.now();
try {
  await s3.send(new HeadBucketCommand({ Bucket }));
} catch {
  await s3.send(new CreateBucketCommand({ Bucket }));
}
await s3.send(
  new PutObjectCommand({ Bucket, Key: `${prefix}/a.json`, Body: '{"a":1}', ContentType: 'application/json' }),
);
const got = await s3.send(new GetObjectCommand({ Bucket, Key: `${prefix}/a.json` }));
const body = await got.Body.transformToString();
if (body !== '{"a":1}') throw new Error(`GetObject returned ${body}`);

const part = Buffer.alloc(5 * 1024 * 1024, 7); // 5 MiB minimum part size
const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: `${prefix}/big.bin` }));
const parts = [];
for (const PartNumber of [1, 2]) {
  const r = await s3.send(
    new UploadPartCommand({ Bucket, Key: `${prefix}/big.bin`, UploadId, PartNumber, Body: part }),
  );
  parts.push({ ETag: r.ETag, PartNumber });
}
await s3.send(
  new CompleteMultipartUploadCommand({
    Bucket,
    Key: `${prefix}/big.bin`,
    UploadId,
    MultipartUpload: { Parts: parts },
  }),
);
const big = await s3.send(new GetObjectCommand({ Bucket, Key: `${prefix}/big.bin` }));
const bigLen = (await big.Body.transformToByteArray()).length;
if (bigLen !== 2 * part.length) throw new Error(`multipart object has ${bigLen} bytes`);

const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: `${prefix}/`, MaxKeys: 1 }));
if (list.KeyCount !== 1 || !list.IsTruncated || !list.NextContinuationToken)
  throw new Error('ListObjectsV2 paging');
const list2 = await s3.send(
  new ListObjectsV2Command({ Bucket, Prefix: `${prefix}/`, ContinuationToken: list.NextContinuationToken }),
);
const keys = [...(list.Contents ?? []), ...(list2.Contents ?? [])].map((o) => o.Key).sort();
if (keys.join(',') !== `${prefix}/a.json,${prefix}/big.bin`) throw new Error(`ListObjectsV2 keys ${keys}`);
for (const Key of keys) await s3.send(new DeleteObjectCommand({ Bucket, Key }));
console.log(`[s3-smoke] ok ${endpoint}: put/get/listV2(paged)/multipart/delete in ${Date.now() - t0} ms`);
