// Reconnect delays: exponential with full jitter, so a thousand clients of a pod that died do not all
// come back in the same instant.

export class Backoff {
  /**
   * @param {{ baseMs?: number, maxMs?: number, random?: () => number }} [options]
   */
  constructor({ baseMs = 500, maxMs = 15000, random = Math.random } = {}) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
    this.random = random;
    this.attempt = 0;
  }

  /** The delay before the next attempt, in milliseconds (between half and all of the ceiling). */
  next() {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt += 1;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  /** A connection worked: the next failure starts from the base delay again. */
  reset() {
    this.attempt = 0;
  }
}
