import { loadConfigOrExit } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { startOpsServer } from '../common/ops-server.js';
import { onShutdown } from '../common/shutdown.js';
import { startWorkerRuntime } from './app.js';
import { computeActivity } from './compute.js';
import { checkWorkerConfig, workerEnv } from './config.js';

const config = loadConfigOrExit('worker', workerEnv, checkWorkerConfig);
const logger = createLogger('worker', config.LOG_LEVEL);
const registry = createMetricsRegistry('worker');
const running = await startWorkerRuntime(config, computeActivity, logger, registry);
const ops = await startOpsServer({
  host: config.WORKER_OPS_HOST,
  port: config.WORKER_OPS_PORT,
  registry,
  logger,
  checks: [
    ...running.checks,
    {
      name: 'postgres',
      check: async () => {
        await running.clients.pg.query('SELECT 1');
      },
    },
  ],
});
logger.info({ group: config.WORKER_GROUP_ID, topic: config.TOPIC_SAMPLES }, 'worker started');
onShutdown(logger, async () => {
  await ops.close();
  await running.close();
});
