// Publishes not yet acknowledged. Each keeps the `client_msg_id` it was born with: however often it is
// sent (after a reconnect, a refusal for rate, or the person's "retry"), the server makes one message
// of it.

/**
 * @typedef {import("./events.js").Outgoing} Outgoing
 * @typedef {import("./history.js").Message} Message
 */

/** Times an `unavailable` publish is sent again by itself before it shows as failed. */
const UNAVAILABLE_RETRIES = 4;

function newClientMsgId() {
  return globalThis.crypto.randomUUID();
}

export class Outbox {
  /** @param {(entry: Outgoing) => void} changed */
  constructor(changed) {
    this.changed = changed;
    /** @type {Map<string, Outgoing & { attempts: number }>} by client_msg_id, oldest first */
    this.entries = new Map();
    /** @type {Map<string, string>} request id → client_msg_id, for the current connection */
    this.requests = new Map();
  }

  /**
   * @param {number} room
   * @param {{ text: string, replyTo?: string, file?: string }} content
   */
  add(room, content) {
    const entry = { clientMsgId: newClientMsgId(), room, ...content, state: /** @type {const} */ ("sending"), attempts: 0 };
    this.entries.set(entry.clientMsgId, entry);
    this.changed(entry);
    return entry;
  }

  /** @param {string} clientMsgId @param {string} requestId */
  sent(clientMsgId, requestId) {
    const entry = this.entries.get(clientMsgId);
    if (!entry) return;
    entry.attempts += 1;
    this.requests.set(requestId, clientMsgId);
  }

  /** The room's publishes still to send, oldest first. @param {number} room */
  ofRoom(room) {
    return [...this.entries.values()].filter((entry) => entry.room === room && entry.state === "sending");
  }

  /**
   * @param {string} requestId
   * @param {string} messageId
   * @param {number} position
   * @returns {boolean} whether the ack was for a publish
   */
  acked(requestId, messageId, position) {
    const clientMsgId = this.requests.get(requestId);
    if (clientMsgId === undefined) return false;
    this.requests.delete(requestId);
    this.settle(clientMsgId, messageId, position);
    return true;
  }

  /** Our own message came back before its ack: it is placed. @param {Message} message */
  delivered(message) {
    if (message.client_msg_id && this.entries.has(message.client_msg_id)) {
      this.settle(message.client_msg_id, message.message_id, message.position);
    }
  }

  /** @param {string} clientMsgId @param {string} messageId @param {number} position */
  settle(clientMsgId, messageId, position) {
    const entry = this.entries.get(clientMsgId);
    if (!entry) return;
    this.entries.delete(clientMsgId);
    this.changed({ ...entry, state: "sent", messageId, position });
  }

  /**
   * The server refused a request: if it was a publish, waits and sends again when that can help
   * (rate limit, service briefly unavailable), else marks it failed with the server's words.
   * @param {string} requestId
   * @param {import("./client.js").FrameError} error
   * @param {(entry: Outgoing) => void} resend
   * @returns {boolean} whether the request was a publish
   */
  refused(requestId, error, resend) {
    const clientMsgId = this.requests.get(requestId);
    if (clientMsgId === undefined) return false;
    this.requests.delete(requestId);
    const entry = this.entries.get(clientMsgId);
    if (!entry) return true;
    const transient = error.code === "rate_limited" || (error.code === "unavailable" && entry.attempts <= UNAVAILABLE_RETRIES);
    if (transient) {
      setTimeout(() => resend(entry), error.retryAfterMs ?? 1000 * entry.attempts);
      return true;
    }
    entry.state = "failed";
    entry.error = error.message;
    this.changed({ ...entry });
    return true;
  }

  /** The connection dropped: nothing is in flight any more; what was sending is sent again later. */
  unsent() {
    this.requests.clear();
  }

  /** @param {string} clientMsgId */
  revive(clientMsgId) {
    const entry = this.entries.get(clientMsgId);
    if (!entry || entry.state !== "failed") return null;
    entry.state = "sending";
    entry.error = undefined;
    entry.attempts = 0;
    this.changed({ ...entry });
    return entry;
  }

  /** @param {string} clientMsgId */
  remove(clientMsgId) {
    this.entries.delete(clientMsgId);
  }

  /** @param {number} room @param {string} reason */
  failRoom(room, reason) {
    for (const entry of this.entries.values()) {
      if (entry.room !== room) continue;
      entry.state = "failed";
      entry.error = reason;
      this.changed({ ...entry });
    }
  }
}
