import type pg from 'pg';
import type { Logger } from '../common/logger.js';

/**
 * Records that devices connected, for `devices.last_seen_at` (the API shows it). One UPDATE per interval
 * for every device seen in it, instead of a write per CONNECT: a fleet reconnecting after a restart would
 * otherwise hit PostgreSQL once per device. Best effort: a failed flush is logged and retried with the
 * next one.
 */
export class LastSeen {
  private seen = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
    intervalMs = 30_000,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  mark(deviceId: string): void {
    this.seen.add(deviceId);
  }

  async flush(): Promise<void> {
    if (this.seen.size === 0) return;
    const ids = [...this.seen];
    this.seen = new Set();
    try {
      await this.pool.query('UPDATE devices SET last_seen_at = now() WHERE id = ANY($1::text[])', [ids]);
    } catch (err) {
      for (const id of ids) this.seen.add(id);
      this.logger.warn({ err, devices: ids.length }, 'last_seen_at update failed');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
