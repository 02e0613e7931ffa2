import type { Redis } from 'ioredis';

type Listener = (message: string) => void;

/**
 * Fans Redis pub/sub out to SSE clients over ONE subscriber connection: each channel is
 * subscribed while at least one listener wants it, so a thousand coaches watching cost one
 * Redis connection, not a thousand.
 */
export class LiveHub {
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly sub: Redis) {
    sub.on('message', (channel: string, message: string) => {
      const set = this.listeners.get(channel);
      if (set) for (const l of set) l(message);
    });
  }

  async listen(channel: string, listener: Listener): Promise<() => Promise<void>> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.sub.subscribe(channel);
    }
    set.add(listener);
    return async () => {
      const s = this.listeners.get(channel);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) {
        this.listeners.delete(channel);
        await this.sub.unsubscribe(channel).catch(() => {});
      }
    };
  }

  channels(): number {
    return this.listeners.size;
  }

  close(): void {
    this.listeners.clear();
    this.sub.disconnect();
  }
}
