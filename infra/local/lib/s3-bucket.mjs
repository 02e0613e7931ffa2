// Creates the given S3 buckets if missing (idempotent). Used by infra/local/up.
// Env: S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY (path-style, region us-east-1).
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';

const s3 = new S3Client({
  endpoint: process.env.S3_ENDPOINT ?? 'http://127.0.0.1:9002',
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: {
    accessKeyId: process.env.S3_ACCESS_KEY ?? 'fitstream',
    secretAccessKey: process.env.S3_SECRET_KEY ?? 'fitstream-secret',
  },
});

for (const Bucket of process.argv.slice(2)) {
  try {
    await s3.send(new HeadBucketCommand({ Bucket }));
  } catch (err) {
    const status = err?.$metadata?.httpStatusCode;
    if (status !== 404 && err?.name !== 'NotFound') {
      console.error(`[s3] HeadBucket ${Bucket} failed: ${err?.name} ${err?.message}`);
      process.exit(1);
    }
    await s3.send(new CreateBucketCommand({ Bucket }));
    console.log(`[s3] created bucket ${Bucket}`);
  }
}
