-- docker-compose only: the postgres image creates role/database `fitstream` from its env;
-- this adds the schema registry's database (infra/local/lib/postgres.sh does the same natively).
CREATE DATABASE schemaregistry OWNER fitstream;
