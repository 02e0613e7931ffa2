/**
 * Releases items in the order they were added, each once it is settled: a later item that settles first waits
 * for every earlier one. The bridge sends its PUBACKs through it (see source-mqtt.ts for why the order
 * matters to Mosquitto). `clear()` drops everything pending, and a handle from before a clear does nothing.
 */
export class InOrderRelease<T> {
  private readonly items: Array<{ item: T; state: 0 | 1 | 2 }> = []; // 0 waiting, 1 release, 2 drop
  private head = 0;
  private generation = 0;

  constructor(private readonly release: (item: T) => void) {}

  /** items added and not yet released or dropped */
  get pending(): number {
    return this.items.length - this.head;
  }

  /** queues `item`; `settle(true)` releases it in its turn, `settle(false)` drops it without holding up the rest */
  add(item: T): (release: boolean) => void {
    const entry = { item, state: 0 as 0 | 1 | 2 };
    this.items.push(entry);
    const generation = this.generation;
    return (release) => {
      if (generation !== this.generation || entry.state !== 0) return;
      entry.state = release ? 1 : 2;
      this.drain();
    };
  }

  clear(): void {
    this.items.length = 0;
    this.head = 0;
    this.generation++;
  }

  private drain(): void {
    while (this.head < this.items.length && this.items[this.head]!.state !== 0) {
      const e = this.items[this.head++]!;
      if (e.state === 1) this.release(e.item);
    }
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 4096) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
  }
}
