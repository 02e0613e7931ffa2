import { loadConfigOrExit } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { startOpsServer } from '../common/ops-server.js';
import { onShutdown } from '../common/shutdown.js';
import { checkGatewayConfig, gatewayEnv } from './config.js';
import { startGatewayRuntime } from './runtime.js';

const config = loadConfigOrExit('gateway', gatewayEnv, checkGatewayConfig);
const logger = createLogger('gateway', config.LOG_LEVEL);
const registry = createMetricsRegistry('gateway');

const runtime = await startGatewayRuntime(config, { logger, registry });
const { gateway, producer, pool } = runtime;

const ops = await startOpsServer({
  host: config.OPS_HOST,
  port: config.OPS_PORT,
  registry,
  logger,
  checks: [
    {
      name: 'kafka',
      check: async () => {
        if (!producer.connected) throw new Error('producer not connected');
        if (gateway.batcher.isBackpressured) throw new Error('back-pressure: Kafka is behind');
      },
    },
    { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) },
    ...(gateway.bridge
      ? [
          {
            name: 'bridge',
            check: async () => {
              if (!gateway.bridge?.connected) throw new Error(`not connected to ${config.BRIDGE_URL}`);
            },
          },
        ]
      : []),
  ],
});
logger.info({ mode: config.GATEWAY_MODE, ops: config.OPS_PORT }, 'gateway started');

onShutdown(
  logger,
  async () => {
    await runtime.close();
    await ops.close();
  },
  config.SHUTDOWN_GRACE_MS,
);
