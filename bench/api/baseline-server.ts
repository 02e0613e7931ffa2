// The bare baselines of bench/api/http.ts, in a process of their own like the API: a fastify route that
// answers a constant (the floor of any route: HTTP, routing, serialisation) and one that runs a bare
// ClickHouse query on the `activities` key of one athlete (the floor of a route that reads ClickHouse:
// the HTTP round trip to ClickHouse and its per-query cost, no auth, no PostgreSQL, no folding).
//   node --import tsx bench/api/baseline-server.ts <port> <database>
import { createClient } from '@clickhouse/client';
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 3998);
const database = process.argv[3] ?? 'bench_api';
const ch = createClient({ url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123' });
const app = Fastify({ logger: false });
const uuid = /^[0-9a-f-]{36}$/;

app.get('/const', async () => ({ ok: true }));
app.get<{ Querystring: { u: string } }>('/ch', async (req, reply) => {
  if (!uuid.test(req.query.u)) return reply.code(400).send({ error: 'u' });
  const rs = await ch.query({
    query: `SELECT count() AS n FROM ${database}.activities WHERE user_id = '${req.query.u}'`,
    format: 'JSONEachRow',
  });
  return (await rs.json<{ n: string }>())[0];
});
app.get('/readyz', async () => ({ ok: true }));

await app.listen({ port, host: '127.0.0.1' });
process.on('SIGTERM', () => {
  void app.close().then(() => ch.close().then(() => process.exit(0)));
});
