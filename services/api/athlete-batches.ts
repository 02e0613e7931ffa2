// The consumer loop shared by the read models that follow activities.v1 by athlete: the stats cache's
// invalidator and the points consumer. Every activities.v1 producer keys its records by userId
// (schemas/*.avsc), so a consumer that only needs "which athletes changed" reads the keys and no values:
// no schema registry, and any record — created, updated, deleted — counts.

import type { Consumer, Kafka } from 'kafkajs';

export interface AthleteBatchOptions {
  topic: string;
  groupId: string;
}

/** The distinct non-empty keys (userIds) of a batch's messages, in first-seen order. */
export function athletesOf(messages: ReadonlyArray<{ key: Buffer | null }>): string[] {
  const users = new Set<string>();
  for (const m of messages) if (m.key && m.key.length > 0) users.add(m.key.toString('utf8'));
  return [...users];
}

/**
 * Joins `groupId` on `topic` and calls `handle` with the athletes of each batch; the batch's offsets are
 * resolved and committed only after `handle` resolves, so a crash or a throw re-delivers the batch (the
 * handlers are idempotent: a re-bump, a rewrite of the same rows). A new group reads the topic from its
 * start: one that began at the end would miss what arrives between start and its first assignment.
 * Returns the running consumer; `disconnect()` it to stop.
 */
export async function runAthleteBatches(
  kafka: Kafka,
  opts: AthleteBatchOptions,
  handle: (users: string[]) => Promise<void>,
): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: opts.groupId, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
      await handle(athletesOf(batch.messages));
      const last = batch.messages.at(-1);
      if (last) resolveOffset(last.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    },
  });
  return consumer;
}
