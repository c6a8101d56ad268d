// Message history over web's REST API (`GET /api/v1/rooms/{room}/messages`), with the API token.

/**
 * @typedef {{ message_id: string, position: number, sender_id: number, sender_name: string }} ReplyRef
 * @typedef {{ width: number, height: number }} Thumbnail
 * @typedef {{ file_id: string, name: string, size: number, content_type: string, thumbnail?: Thumbnail }} FileRef
 * @typedef {{
 *   message_id: string, room_id: number, sender_id: number, sender_name: string, text: string,
 *   client_msg_id?: string, sent_at_ms: number, position: number, reply_to?: ReplyRef,
 *   file?: FileRef, edited_at_ms?: number, deleted?: boolean,
 *   reactions?: import("./reactions.js").Reaction[], mentions?: number[], mentions_room?: boolean
 * }} Message
 * @typedef {{ id: number, name: string, kind: "community" | "direct", topic: string, archived: boolean }} RoomView
 * @typedef {{ position: number, sender_id: number, sender_name: string, text: string, sent_at_ms: number }} MessagePreview
 * @typedef {{
 *   room: RoomView, last_message?: MessagePreview, unread: number, unread_more: boolean,
 *   mentions?: number, last_activity_ms: number
 * }} RoomListItem
 * @typedef {{
 *   message_id: string, room_id: number, sender_id: number, sender_name: string, to_id: number,
 *   to_name: string, text: string, client_msg_id?: string, sent_at_ms: number, after: number
 * }} Whisper
 * @typedef {{
 *   member_id: number, username: string, display_name: string, role: string,
 *   muted_until_ms?: number, joined_at_ms: number
 * }} RoomMember
 */

/** An answer of the API that is not a success, with the server's words. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} detail
   * @param {number | undefined} retryAfterMs
   */
  constructor(status, detail, retryAfterMs) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class History {
  /**
   * @param {string} webUrl
   * @param {import("./tokens.js").TokenSource} apiTokens
   */
  constructor(webUrl, apiTokens) {
    this.webUrl = webUrl;
    this.apiTokens = apiTokens;
  }

  /**
   * A GET of the API as JSON; a refused token is replaced once.
   * @param {string} path
   * @returns {Promise<any>}
   */
  async get(path) {
    for (let attempt = 0; ; attempt++) {
      const token = await this.apiTokens.get();
      const response = await fetch(this.webUrl + path, {
        headers: { Authorization: `Bearer ${token}` },
        cache: "no-store",
      });
      if (response.status === 401 && attempt === 0) {
        this.apiTokens.invalidate();
        continue;
      }
      const body = await response.json().catch(() => null);
      if (response.ok) return body;
      const detail = body?.errors?.[0]?.detail ?? response.statusText;
      throw new ApiError(response.status, detail, body?.retry_after_ms);
    }
  }

  /**
   * The newest `limit` messages below position `before` (all positions when null), oldest first.
   * @param {number} room
   * @param {number | null} before
   * @param {number} [limit]
   * @returns {Promise<Message[]>}
   */
  before(room, before, limit = 50) {
    const query = before === null ? `limit=${limit}` : `before=${before}&limit=${limit}`;
    return this.get(`/api/v1/rooms/${room}/messages?${query}`);
  }

  /**
   * Messages from position `after + 1` on (at most `limit`), as far as history holds them.
   * @param {number} room
   * @param {number} after
   * @param {number} [limit]
   * @returns {Promise<Message[]>}
   */
  after(room, after, limit = 50) {
    return this.get(`/api/v1/rooms/${room}/messages?after=${after}&limit=${limit}`);
  }

  /**
   * The member's whispers in the room shown after positions `after..=upTo` (no end when null),
   * oldest first.
   * @param {number} room @param {number} after @param {number | null} upTo
   * @returns {Promise<Whisper[]>}
   */
  whispers(room, after, upTo) {
    const end = upTo === null ? "" : `&up_to=${upTo}`;
    return this.get(`/api/v1/rooms/${room}/whispers?after=${Math.max(0, after)}${end}&limit=200`);
  }

  /**
   * Exactly positions `after + 1 ..= upTo`, in pages; waits while history does not hold them all yet
   * (the server says 503 and when to ask again) rather than returning a short range.
   * @param {number} room
   * @param {number} after
   * @param {number} upTo
   * @returns {Promise<Message[]>}
   */
  async range(room, after, upTo) {
    /** @type {Message[]} */
    const all = [];
    let from = after;
    let waits = 0;
    while (from < upTo) {
      try {
        const page = await this.get(`/api/v1/rooms/${room}/messages?after=${from}&up_to=${upTo}&limit=200`);
        if (page.length === 0) throw new ApiError(503, "history returned an empty page", 500);
        all.push(...page);
        from = page[page.length - 1].position;
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 503 || ++waits > 60) throw error;
        await sleep(error.retryAfterMs ?? 500);
      }
    }
    return all;
  }
}
