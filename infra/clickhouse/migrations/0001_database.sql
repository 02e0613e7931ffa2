-- The analytics database. Tables come in later files (0002_..., 0003_...), applied in
-- file-name order by infra/clickhouse/migrate.ts. SQL here must run on ClickHouse 18.16
-- (Debian) and current ClickHouse (docker-compose, chdb).
CREATE DATABASE IF NOT EXISTS fitstream;
