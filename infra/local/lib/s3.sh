#!/usr/bin/env bash
# S3-compatible storage: Versity S3 Gateway (versitygw v1.8.0, Go) with its posix backend
# on 127.0.0.1:9002. Access key fitstream / secret fitstream-secret, region us-east-1,
# path-style. Buckets are folders under $FS_DATA/s3/data; object metadata goes to a
# sidecar folder (no need for user xattrs on the file system). Bucket fitstream-archive
# (raw telemetry archive, replayable) is created by `up`. Memory: ~30-40MB RSS.
S3_PORT=9002
S3_DIR="$FS_DATA/s3"
S3_BIN="$FS_OPT/bin/versitygw"
S3_LOGFILE="$FS_LOG/s3.log"
S3_ACCESS_KEY=fitstream
S3_SECRET_KEY=fitstream-secret
S3_BUCKET=fitstream-archive

s3_need() { :; }

s3_install() {
  go_build_pinned versitygw "$FS_INFRA/local/s3" github.com/versity/versitygw/cmd/versitygw
  mkdir -p "$S3_DIR/data" "$S3_DIR/meta"
}

s3_ready() { http_ok "$S3_PORT" /health; }
s3_running() { pid_of s3 >/dev/null && port_open "$S3_PORT"; }

s3_start() {
  s3_running && return 0
  port_open "$S3_PORT" && fs_die "s3: port $S3_PORT is taken by another process"
  ROOT_ACCESS_KEY_ID="$S3_ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
    start_bg s3 "$S3_LOGFILE" "$S3_BIN" --port "127.0.0.1:$S3_PORT" --region us-east-1 \
      --health /health --quiet \
      posix --sidecar "$S3_DIR/meta" "$S3_DIR/data"
}
s3_wait() { wait_until s3 30 "$S3_LOGFILE" s3_ready; }
s3_stop() { stop_pid s3 20; }

# Idempotent bucket creation with the AWS SDK v3 (same client the services use).
s3_bucket() {
  NODE_NO_WARNINGS=1 S3_ENDPOINT="http://127.0.0.1:$S3_PORT" S3_ACCESS_KEY="$S3_ACCESS_KEY" S3_SECRET_KEY="$S3_SECRET_KEY" \
    node "$FS_INFRA/local/lib/s3-bucket.mjs" "$S3_BUCKET"
}
