import { loadConfigOrExit } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { startOpsServer } from '../common/ops-server.js';
import { onShutdown } from '../common/shutdown.js';
import { startEngagement } from './app.js';
import { checkEngagementConfig, engagementEnv } from './config.js';

const config = loadConfigOrExit('engagement', engagementEnv, checkEngagementConfig);
const logger = createLogger('engagement', config.LOG_LEVEL);
const registry = createMetricsRegistry('engagement');
const running = await startEngagement(config, logger, registry);
const ops = await startOpsServer({
  host: config.ENGAGEMENT_OPS_HOST,
  port: config.ENGAGEMENT_OPS_PORT,
  registry,
  logger,
  checks: running.checks,
});
logger.info({ group: config.ENGAGEMENT_GROUP_ID, topic: config.TOPIC_ACTIVITIES }, 'engagement started');
onShutdown(logger, async () => {
  await ops.close();
  await running.close();
});
