// The gateway's baseline in a load run: a bare aedes broker (aedes 1.2, as the gateway embeds it) with no
// authentication, no validation and no Kafka, so a QoS 1 PUBACK leaves at once. Its own process, so its CPU
// is read from /proc like the gateway's. MQTT on MQTT_PORT; GET / on OPS_PORT answers once it listens.
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const aedes = await Aedes.createBroker({ heartbeatInterval: 60_000, connectTimeout: 10_000 });
const mqtt = createServer(aedes.handle);
await new Promise<void>((r) => mqtt.listen(Number(process.env.MQTT_PORT), '127.0.0.1', r));
const ops = createHttpServer((_, res) => res.end('ok'));
await new Promise<void>((r) => ops.listen(Number(process.env.OPS_PORT), '127.0.0.1', r));
process.once('SIGTERM', () => {
  mqtt.close();
  ops.close();
  aedes.close(() => process.exit(0));
});
