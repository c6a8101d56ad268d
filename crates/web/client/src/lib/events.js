// The typed event stream the client library emits; the UI listens with `client.on(type, handler)`.

/**
 * @typedef {import("./history.js").Message} Message
 * @typedef {"connecting" | "live" | "waiting" | "closed"} ConnectionState
 * @typedef {"sending" | "sent" | "failed"} OutgoingState
 * @typedef {{
 *   clientMsgId: string, room: number, text: string, replyTo?: string, file?: string,
 *   state: OutgoingState, error?: string, messageId?: string, position?: number
 * }} Outgoing
 * @typedef {{
 *   message: { room: number, message: Message, replayed: boolean },
 *   edited: { room: number, message_id: string, position: number, text: string, edited_at_ms: number },
 *   deleted: { room: number, message_id: string, position: number },
 *   reaction_changed: import("./reactions.js").ReactionChange,
 *   typing: { room: number, member_id: number, member_name: string, typing: boolean },
 *   member_read: { room: number, member_id: number, position: number },
 *   presence: { room: number, member_id: number, state: string, last_seen_ms?: number },
 *   removed: { room: number, reason: string },
 *   room_changed: { room: number, change: string },
 *   members_changed: { room: number },
 *   whisper: { whisper: import("./history.js").Whisper },
 *   friends_changed: { type: "friends_changed" },
 *   call_state: { room: number, version: number, participants: CallParticipant[] },
 *   signal: { room: number, from: string, from_member: number, data: any },
 *   read: { room: number, position: number },
 *   outgoing: Outgoing,
 *   connection: { state: ConnectionState, retryAt?: number, reason?: string },
 *   problem: { room?: number, detail: string },
 * }} ClientEvents
 * @typedef {{ audio: boolean, video: boolean, screen: boolean, muted: boolean }} CallMedia
 * @typedef {{ session: string, member_id: number, name: string, media: CallMedia, since_ms: number }} CallParticipant
 */

/** @template {Record<string, any>} E */
export class Emitter {
  constructor() {
    /** @type {Map<keyof E, Set<(event: any) => void>>} */
    this.handlers = new Map();
  }

  /**
   * @template {keyof E} K
   * @param {K} type
   * @param {(event: E[K]) => void} handler
   * @returns {() => void} stops listening
   */
  on(type, handler) {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /**
   * @template {keyof E} K
   * @param {K} type
   * @param {E[K]} event
   */
  emit(type, event) {
    for (const handler of this.handlers.get(type) ?? []) {
      try {
        handler(event);
      } catch (error) {
        console.error(`natter: a ${String(type)} handler failed`, error);
      }
    }
  }
}
