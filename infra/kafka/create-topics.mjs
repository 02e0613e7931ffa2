// Idempotently applies infra/kafka/topics.json to the broker at $KAFKA_BROKERS
// (default 127.0.0.1:9092): creates missing topics, raises partition counts that are
// lower than declared (Kafka cannot lower them), and re-applies the declared configs.
// Usage: node infra/kafka/create-topics.mjs [topics.json]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';

const { Kafka, logLevel, ConfigResourceTypes } = kafkajs;
const file = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'topics.json');
const { topics } = JSON.parse(readFileSync(file, 'utf8'));
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

const kafka = new Kafka({
  clientId: 'fitstream-infra',
  brokers,
  logLevel: logLevel.NOTHING,
  retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 },
});
const admin = kafka.admin();

// Right after creation a fresh broker may still answer UNKNOWN_TOPIC_OR_PARTITION or report
// partitions without a leader: poll (bounded) until every partition has one.
async function waitForLeaders(names, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: names });
      if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
        return meta;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`topics have no leader after ${timeoutMs} ms: ${names.join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main() {
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: t.replicationFactor ?? 1,
          configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({
            name,
            value: String(value),
          })),
        })),
      });
    }
    const present = topics.filter((t) => existing.has(t.name));
    if (present.length > 0) {
      const meta = await waitForLeaders(present.map((t) => t.name));
      const grow = [];
      for (const t of present) {
        const m = meta.topics.find((x) => x.name === t.name);
        const have = m?.partitions.length ?? 0;
        if (have < t.partitions) grow.push({ topic: t.name, count: t.partitions });
        else if (have > t.partitions)
          console.warn(`[topics] ${t.name} has ${have} partitions, declared ${t.partitions} (cannot shrink)`);
      }
      if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow });
      const withConfig = present.filter((t) => t.config && Object.keys(t.config).length > 0);
      if (withConfig.length > 0) {
        // incremental-style: only the declared keys are set, others keep broker defaults
        await admin.alterConfigs({
          validateOnly: false,
          resources: withConfig.map((t) => ({
            type: ConfigResourceTypes.TOPIC,
            name: t.name,
            configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value: String(value) })),
          })),
        });
      }
    }
    const meta = await waitForLeaders(topics.map((t) => t.name));
    const summary = meta.topics.map((t) => `${t.name}(${t.partitions.length})`).join(' ');
    console.log(`[topics] ok: ${summary}${missing.length ? ` (created ${missing.length})` : ''}`);
  } finally {
    await admin.disconnect();
  }
}

main().catch((err) => {
  console.error(`[topics] failed: ${err?.message ?? err}`);
  process.exit(1);
});
