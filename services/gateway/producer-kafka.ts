import {
  type ICustomPartitioner,
  Kafka,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import type { Logger } from '../common/logger.js';
import type { OutRecord, SendBatch } from './batcher.js';
import { installFastProduceRequest } from './kafkajs-produce.js';
import { installFastRecordEncoder } from './kafkajs-record.js';

// Before any produce request module of kafkajs loads (kafkajs-record.ts, kafkajs-produce.ts); the record
// encoder first: the produce module captures it when it loads, and it serves requests out of the fast
// request encoder's scope.
const fastRecords = installFastRecordEncoder();
const fastRequests = installFastProduceRequest();
/** Whether this process's kafkajs producers use the fast record encoder. */
export const fastRecordEncoderInstalled = (): boolean => fastRecords;
/** Whether this process's kafkajs producers use the fast Produce request encoder. */
export const fastProduceRequestInstalled = (): boolean => fastRequests;

export interface KafkaProducerOptions {
  brokers: string[];
  clientId: string;
  requestTimeoutMs: number;
  logger: Logger;
}

export interface KafkaProducer {
  send: SendBatch;
  /** true while the producer holds a connection to the cluster */
  readonly connected: boolean;
  /** records are encoded by kafkajs-record.ts (false: kafkajs' own encoder) */
  readonly fastRecordEncoder: boolean;
  disconnect(): Promise<void>;
}

function kafkaLogCreator(logger: Logger) {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      if (level === logLevel.ERROR) child.error(extra, message);
      else if (level === logLevel.WARN) child.warn(extra, message);
      else child.debug(extra, message);
    };
}

/** Keys remembered per topic before the cache starts over (a key is one session: ~100 B each). */
const PARTITION_CACHE_KEYS = 200_000;

/**
 * kafkajs' Java-compatible DefaultPartitioner, remembering its answer per key. It hashes every record's key
 * with a murmur2 built on 64-bit Long objects (plus a Buffer copy of the key and a filter over the partition
 * list): ~4 % of the gateway's CPU in the profile, for keys that repeat (one per session). The placement is
 * the default partitioner's own, so it stays the same as any Java/librdkafka client; the cache starts over
 * when a topic's partition count changes, and when it holds PARTITION_CACHE_KEYS keys.
 */
export const cachedKeyPartitioner: ICustomPartitioner = () => {
  const inner = Partitioners.DefaultPartitioner();
  const byTopic = new Map<string, { partitions: number; byKey: Map<string, number> }>();
  return (args) => {
    const { topic, partitionMetadata, message } = args;
    const key = message.key;
    if (typeof key !== 'string' || (message.partition !== undefined && message.partition !== null)) {
      return inner(args);
    }
    let cache = byTopic.get(topic);
    if (cache === undefined || cache.partitions !== partitionMetadata.length) {
      cache = { partitions: partitionMetadata.length, byKey: new Map() };
      byTopic.set(topic, cache);
    }
    let partition = cache.byKey.get(key);
    if (partition === undefined) {
      partition = inner(args);
      if (cache.byKey.size >= PARTITION_CACHE_KEYS) cache.byKey.clear();
      cache.byKey.set(key, partition);
    }
    return partition;
  };
};

/**
 * The idempotent, acks=all producer behind the batcher. One `send` is one produce request per partition
 * leader carrying every record of the batch; kafkajs keeps their order per partition, and the batcher
 * never has two sends in flight, so a session's records stay in order even across retries. The
 * Java-compatible murmur2 partitioner places a key on the same partition as any Java/librdkafka client.
 */
export async function connectKafkaProducer(opts: KafkaProducerOptions): Promise<KafkaProducer> {
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    requestTimeout: opts.requestTimeoutMs,
    connectionTimeout: 3_000,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(opts.logger),
    // bounded retries inside kafkajs per attempt; the batcher retries the whole batch forever on top
    retry: { initialRetryTime: 100, maxRetryTime: 5_000, retries: 8 },
  });
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: cachedKeyPartitioner,
    allowAutoTopicCreation: false,
    retry: { initialRetryTime: 100, maxRetryTime: 5_000, retries: Number.MAX_SAFE_INTEGER },
  });
  let connected = false;
  producer.on(producer.events.CONNECT, () => {
    connected = true;
  });
  producer.on(producer.events.DISCONNECT, () => {
    connected = false;
  });
  await producer.connect();
  connected = true;
  opts.logger.debug(
    { fastRecordEncoder: fastRecords, fastProduceRequest: fastRequests },
    'Kafka producer connected',
  );

  const send: SendBatch = async (records: readonly OutRecord[]) => {
    const byTopic = new Map<string, Array<{ key: string; value: Buffer }>>();
    for (const r of records) {
      let list = byTopic.get(r.topic);
      if (!list) {
        list = [];
        byTopic.set(r.topic, list);
      }
      list.push({ key: r.key, value: r.value });
    }
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  };

  return {
    send,
    get connected() {
      return connected;
    },
    fastRecordEncoder: fastRecords,
    disconnect: () => producer.disconnect(),
  };
}
