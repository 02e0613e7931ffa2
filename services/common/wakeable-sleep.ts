/**
 * The pause of a polling loop that is told when there is work: sleep(ms) ends after ms, or at once when wake()
 * is called during it (a wake() while nobody sleeps is a no-op). The import and export runners of the API and
 * the engagement outbox relay poll this way.
 */
export class WakeableSleep {
  private wakeUp: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        if (this.wakeUp === done) this.wakeUp = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}
