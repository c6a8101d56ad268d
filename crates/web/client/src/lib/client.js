// The Natter client library: one WebSocket to a message pod, rooms subscribed and resumed with `since`,
// publishes that survive reconnects (each keeps its `client_msg_id`, so a retry can never double),
// gaps filled from history, and everything the server says as a typed event stream. It knows the
// protocol (proto/README.md) and nothing of any page.
//
// Why this shape: positions are consecutive per room, so the library can check every message (the next
// one must be `last + 1`); it drops what it already has and fetches what it missed, and the UI above it
// can trust that `message` events of a room arrive once each, in order, with no hole.

import { Backoff } from "./backoff.js";
import { Emitter } from "./events.js";
import { History } from "./history.js";
import { Outbox } from "./outbox.js";
import { LoggedOut } from "./tokens.js";

/**
 * @typedef {import("./history.js").Message} Message
 * @typedef {import("./events.js").ClientEvents} ClientEvents
 * @typedef {import("./events.js").Outgoing} Outgoing
 * @typedef {{ ws: import("./tokens.js").TokenSource, api: import("./tokens.js").TokenSource }} Tokens
 * @typedef {{ code: string, detail: string, retry_after_ms?: number }} FrameErrorBody
 * @typedef {{ resolve: (frame: any) => void, reject: (error: Error) => void }} Waiter
 * @typedef {{
 *   last: number | null, subscribed: boolean, filling: boolean, buffer: Message[],
 *   readWanted: number, readSent: number, typingSentAt: number, typingFrameAt: number,
 *   typingStop: ReturnType<typeof setTimeout> | null, typingStart: ReturnType<typeof setTimeout> | null
 * }} RoomState
 */

/** A request the server refused (or could not be sent): `code` is the protocol's error code. */
export class FrameError extends Error {
  /**
   * @param {string} code
   * @param {string} detail
   * @param {number} [retryAfterMs]
   */
  constructor(code, detail, retryAfterMs) {
    super(detail);
    this.name = "FrameError";
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}

/** How long a connection may stay silent before the client pings it, and waits for the pong. */
const PING_EVERY_MS = 20000;
const PONG_WITHIN_MS = 10000;
/** Typing: `true` is repeated at most this often while typing, `false` sent after this much quiet. */
const TYPING_REPEAT_MS = 3000;
const TYPING_QUIET_MS = 4000;
/** The server takes at most 2 typing frames a second per connection: keep them this far apart. */
const TYPING_SPACING_MS = 550;

/** @extends {Emitter<ClientEvents>} */
export class NatterClient extends Emitter {
  /**
   * @param {{
   *   webUrl: string, wsUrl: string, tokens: Tokens,
   *   WebSocketImpl?: typeof WebSocket, backoff?: Backoff
   * }} options
   */
  constructor({ webUrl, wsUrl, tokens, WebSocketImpl = globalThis.WebSocket, backoff = new Backoff() }) {
    super();
    this.wsUrl = wsUrl.replace(/\/$/, "") + "/ws";
    this.tokens = tokens;
    this.WebSocketImpl = WebSocketImpl;
    this.backoff = backoff;
    this.history = new History(webUrl, tokens.api);
    this.outbox = new Outbox((entry) => this.emit("outgoing", entry));
    /** @type {Map<number, RoomState>} */
    this.rooms = new Map();
    /** @type {Map<string, Waiter>} */
    this.waiting = new Map();
    /** @type {Map<string, number>} subscribe request ids and their rooms */
    this.subscribing = new Map();
    /** @type {WebSocket | null} */
    this.socket = null;
    /** @type {import("./events.js").ConnectionState} */
    this.state = "closed";
    this.stopped = true;
    this.nextId = 1;
    /** @type {number | null} the delay a `reconnect` frame asked for */
    this.askedDelay = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.pinger = null;
    this.lastHeard = 0;
  }

  /** Opens the connection (and keeps it open until `close`). */
  start() {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  /** Closes for good: no reconnect. */
  close() {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.close(1000, "bye");
    this.setState("closed");
  }

  /** Reconnects at once instead of waiting out the backoff (e.g. the person clicked "retry now"). */
  retryNow() {
    if (this.stopped || this.state !== "waiting") return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    void this.connect();
  }

  /**
   * Follows a room: messages after `since` (the newest position the caller has, or null for live
   * ones only) arrive as `message` events, once each and in order, across reconnects.
   * @param {number} room
   * @param {number | null} since
   */
  join(room, since) {
    if (!this.rooms.has(room)) {
      this.rooms.set(room, {
        last: since, subscribed: false, filling: false, buffer: [],
        readWanted: 0, readSent: 0, typingSentAt: 0, typingFrameAt: 0, typingStop: null, typingStart: null,
      });
    }
    if (this.state === "live") this.subscribe(room);
  }

  /**
   * Publishes a message: it is "sending" until acked, and is sent again after every reconnect until
   * then (same `client_msg_id`). Returns the entry the `outgoing` events describe.
   * @param {number} room
   * @param {{ text: string, replyTo?: string, file?: string }} content
   * @returns {Outgoing}
   */
  publish(room, content) {
    const entry = this.outbox.add(room, content);
    this.sendPublish(entry);
    return entry;
  }

  /**
   * Sends a failed publish again, under its first `client_msg_id`.
   * @param {string} clientMsgId
   */
  retry(clientMsgId) {
    const entry = this.outbox.revive(clientMsgId);
    if (entry) this.sendPublish(entry);
  }

  /**
   * Gives up on a publish that was not sent (the person discarded it).
   * @param {string} clientMsgId
   */
  discard(clientMsgId) {
    this.outbox.remove(clientMsgId);
  }

  /**
   * @param {number} room
   * @param {string} messageId
   * @param {string} text
   * @returns {Promise<{ position: number }>}
   */
  edit(room, messageId, text) {
    return this.request({ type: "edit", room, message_id: messageId, text });
  }

  /**
   * @param {number} room
   * @param {string} messageId
   * @returns {Promise<{ position: number }>}
   */
  delete(room, messageId) {
    return this.request({ type: "delete", room, message_id: messageId });
  }

  /**
   * Reacts to a message with `emoji` (`added`), or takes the reaction back; every subscriber, this
   * one too, then gets `reaction_changed`.
   * @param {number} room
   * @param {string} messageId
   * @param {string} emoji
   * @param {boolean} added
   * @returns {Promise<{ position: number }>}
   */
  react(room, messageId, emoji, added) {
    return this.request({ type: added ? "react" : "unreact", room, message_id: messageId, emoji });
  }

  /**
   * Whispers `text` to member `to` of the room (only they and this member's devices get it);
   * resolves with `whispered` once it is stored.
   * @param {number} room @param {number} to @param {string} text
   * @returns {Promise<{ message_id: string, after: number }>}
   */
  whisper(room, to, text) {
    return this.request({ type: "publish", room, text, whisper_to: to, client_msg_id: crypto.randomUUID() });
  }

  /**
   * Joins the room's call (or changes one's media in it); resolves with `call_joined`.
   * @param {number} room @param {import("./events.js").CallMedia} media
   * @returns {Promise<{ room: number, session: string }>}
   */
  joinCall(room, media) {
    return this.request({ type: "call_join", room, media });
  }

  /** Leaves the room's call. @param {number} room @returns {Promise<unknown>} */
  leaveCall(room) {
    return this.request({ type: "call_leave", room });
  }

  /**
   * WebRTC signalling for participant `to` of the room's call; refusals arrive as `problem`.
   * @param {number} room @param {string} to @param {unknown} data @returns {boolean} whether it went out
   */
  signal(room, to, data) {
    return this.send({ type: "signal", id: this.id("g"), room, to, data });
  }

  /**
   * Reports that the member has seen the room up to `position` (sent when connected; never moves back).
   * @param {number} room
   * @param {number} position
   */
  markRead(room, position) {
    const state = this.rooms.get(room);
    if (!state || position <= state.readWanted) return;
    state.readWanted = position;
    this.flushRead(room);
  }

  /**
   * The member's rooms, latest activity first, with unread counts and last messages (the first page).
   * @returns {Promise<{ rooms: import("./history.js").RoomListItem[], next_page?: number }>}
   */
  myRooms() {
    return this.history.get("/api/v1/me/rooms");
  }

  /** Whether the client follows `room` (joined it and has not left). @param {number} room */
  follows(room) {
    return this.rooms.has(room);
  }

  /**
   * The room's members with their roles.
   * @param {number} room
   * @returns {Promise<import("./history.js").RoomMember[]>}
   */
  members(room) {
    return this.history.get(`/api/v1/rooms/${room}/members`);
  }

  /**
   * Stops receiving a room (the sidebar no longer lists it).
   * @param {number} room
   */
  leave(room) {
    const state = this.rooms.get(room);
    if (!state) return;
    if (state.typingStop) clearTimeout(state.typingStop);
    if (state.typingStart) clearTimeout(state.typingStart);
    this.rooms.delete(room);
    if (state.subscribed) this.send({ type: "unsubscribe", id: this.id("u"), room });
  }

  /**
   * The member typed in the room's composer: tells the others, at most every few seconds, and that
   * they stopped after a quiet moment.
   * @param {number} room
   */
  typing(room) {
    const state = this.rooms.get(room);
    if (!state || !state.subscribed) return;
    const now = Date.now();
    if (now - state.typingSentAt > TYPING_REPEAT_MS && !state.typingStart) {
      // Right after a `false` (a message just sent), wait a moment rather than be refused.
      const wait = Math.max(0, state.typingFrameAt + TYPING_SPACING_MS - now);
      const start = () => {
        state.typingStart = null;
        if (!state.subscribed) return;
        state.typingSentAt = state.typingFrameAt = Date.now();
        this.send({ type: "typing", id: this.id("t"), room, typing: true });
      };
      if (wait === 0) start();
      else state.typingStart = setTimeout(start, wait);
    }
    if (state.typingStop) clearTimeout(state.typingStop);
    state.typingStop = setTimeout(() => this.stopTyping(room), TYPING_QUIET_MS);
  }

  /**
   * The member stopped typing (sent, cleared or left the composer).
   * @param {number} room
   */
  stopTyping(room) {
    const state = this.rooms.get(room);
    if (!state) return;
    if (state.typingStart) clearTimeout(state.typingStart);
    state.typingStart = null;
    if (state.typingSentAt === 0) return;
    if (state.typingStop) clearTimeout(state.typingStop);
    state.typingStop = null;
    state.typingSentAt = 0;
    if (!state.subscribed) return;
    state.typingFrameAt = Date.now();
    this.send({ type: "typing", id: this.id("t"), room, typing: false });
  }

  // ---- connection -------------------------------------------------------------------------------

  /** @param {import("./events.js").ConnectionState} state @param {{ retryAt?: number, reason?: string }} [more] */
  setState(state, more = {}) {
    this.state = state;
    this.emit("connection", { state, ...more });
  }

  async connect() {
    this.retryTimer = null;
    if (this.stopped) return;
    this.setState("connecting");
    let token;
    try {
      token = await this.tokens.ws.get();
    } catch (error) {
      if (error instanceof LoggedOut) {
        this.stopped = true;
        this.setState("closed", { reason: error.message });
        return;
      }
      this.scheduleReconnect("cannot reach the server");
      return;
    }
    if (this.stopped) return;
    const socket = new this.WebSocketImpl(this.wsUrl, ["natter.v1", `natter.token.${token}`]);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.backoff.reset();
      this.lastHeard = Date.now();
      this.setState("live");
      this.startPinging(socket);
      for (const room of this.rooms.keys()) this.subscribe(room);
    };
    socket.onmessage = (event) => {
      this.lastHeard = Date.now();
      this.receive(JSON.parse(String(event.data)));
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopPinging();
      // A refused token closes before the upgrade: ask for a fresh one next time.
      if (!opened) this.tokens.ws.invalidate();
      this.connectionLost();
      if (this.stopped) return;
      const reason = event.code === 1013 ? "the connection was too slow" : event.reason || "connection lost";
      this.scheduleReconnect(reason);
    };
  }

  /** @param {string} reason */
  scheduleReconnect(reason) {
    const delay = this.askedDelay ?? this.backoff.next();
    this.askedDelay = null;
    this.setState("waiting", { retryAt: Date.now() + delay, reason });
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  /** Everything waiting on the old connection: requests fail, rooms and publishes wait for the next. */
  connectionLost() {
    for (const [, waiter] of this.waiting) waiter.reject(new FrameError("unavailable", "the connection was lost; try again"));
    this.waiting.clear();
    this.subscribing.clear();
    for (const state of this.rooms.values()) state.subscribed = false;
    this.outbox.unsent();
  }

  /** @param {WebSocket} socket */
  startPinging(socket) {
    this.stopPinging();
    this.pinger = setInterval(() => {
      const quiet = Date.now() - this.lastHeard;
      if (quiet > PING_EVERY_MS + PONG_WITHIN_MS) socket.close(4000, "no answer from the server");
      else if (quiet > PING_EVERY_MS) this.send({ type: "ping", id: this.id("k") });
    }, PONG_WITHIN_MS / 2);
  }

  stopPinging() {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
  }

  /** @param {string} prefix */
  id(prefix) {
    return `${prefix}${this.nextId++}`;
  }

  /** @param {object} frame @returns {boolean} whether it went out */
  send(frame) {
    if (!this.socket || this.state !== "live") return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /**
   * A request answered by `ack` (or another answer naming its id).
   * @param {{ type: string, room: number, [key: string]: unknown }} frame
   * @returns {Promise<any>}
   */
  request(frame) {
    const state = this.rooms.get(frame.room);
    if (!state?.subscribed) {
      return Promise.reject(new FrameError("unavailable", "not connected; try again in a moment"));
    }
    const id = this.id(frame.type[0]);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.send({ ...frame, id });
    });
  }

  /** @param {number} room */
  subscribe(room) {
    const state = this.rooms.get(room);
    if (!state) return;
    /** @type {{ type: string, id: string, room: number, since?: number }} */
    const frame = { type: "subscribe", id: this.id("s"), room };
    this.subscribing.set(frame.id, room);
    if (state.last !== null) frame.since = state.last;
    this.send(frame);
  }

  /** @param {import("./events.js").Outgoing} entry */
  sendPublish(entry) {
    const state = this.rooms.get(entry.room);
    if (!state?.subscribed || entry.state !== "sending") return;
    const id = this.id("p");
    /** @type {Record<string, unknown>} */
    const frame = { type: "publish", id, room: entry.room, text: entry.text, client_msg_id: entry.clientMsgId };
    if (entry.replyTo) frame.reply_to = entry.replyTo;
    if (entry.file) frame.file = entry.file;
    this.outbox.sent(entry.clientMsgId, id);
    this.send(frame);
  }

  /** @param {number} room */
  flushRead(room) {
    const state = this.rooms.get(room);
    if (!state?.subscribed || state.readWanted <= state.readSent) return;
    state.readSent = state.readWanted;
    this.send({ type: "mark_read", id: this.id("r"), room, position: state.readWanted });
  }

  // ---- what the server says ---------------------------------------------------------------------

  /** @param {any} frame */
  receive(frame) {
    switch (frame.type) {
      case "subscribed": {
        const state = this.rooms.get(frame.room);
        this.subscribing.delete(frame.id);
        if (!state) return;
        state.subscribed = true;
        state.readSent = 0;
        this.flushRead(frame.room);
        for (const entry of this.outbox.ofRoom(frame.room)) this.sendPublish(entry);
        return;
      }
      case "message":
        this.arrived(frame.message.room_id, frame.message, false);
        return;
      case "reload_history":
        void this.fill(frame.room, frame.after, frame.up_to, null);
        return;
      case "ack": {
        if (this.outbox.acked(frame.id, frame.message_id, frame.position)) return;
        this.answer(frame.id, frame);
        return;
      }
      case "read_position":
        this.answer(frame.id, frame);
        this.emit("read", { room: frame.room, position: frame.position });
        return;
      case "pong":
      case "call_joined":
      case "call_left":
      case "whispered":
        this.answer(frame.id, frame);
        return;
      case "error":
        this.failed(frame);
        return;
      case "reconnect":
        this.askedDelay = frame.retry_after_ms + Math.round(Math.random() * 2000);
        return;
      case "removed": {
        this.rooms.delete(frame.room);
        this.outbox.failRoom(frame.room, "you can no longer post in this room");
        this.emit("removed", frame);
        return;
      }
      case "edited":
      case "deleted":
      case "reaction_changed":
      case "typing":
      case "member_read":
      case "presence":
      case "room_changed":
      case "members_changed":
      case "call_state":
      case "signal":
      case "whisper":
      case "friends_changed":
        this.emit(frame.type, frame);
        return;
      default:
    }
  }

  /** @param {string} id @param {any} frame */
  answer(id, frame) {
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    waiter.resolve(frame);
  }

  /** @param {{ id?: string, code: string, detail: string, retry_after_ms?: number }} frame */
  failed(frame) {
    const error = new FrameError(frame.code, frame.detail, frame.retry_after_ms);
    if (frame.id && this.outbox.refused(frame.id, error, (entry) => this.sendPublish(entry))) return;
    const waiter = frame.id ? this.waiting.get(frame.id) : undefined;
    if (waiter && frame.id) {
      this.waiting.delete(frame.id);
      waiter.reject(error);
      return;
    }
    const room = frame.id ? this.subscribing.get(frame.id) : undefined;
    if (room !== undefined && frame.code === "forbidden") {
      // A subscribe was refused (not a member any more): the room is gone for this member.
      this.rooms.delete(room);
      this.outbox.failRoom(room, frame.detail);
      this.emit("removed", { room, reason: frame.detail });
      return;
    }
    this.emit("problem", { room, detail: frame.detail });
  }

  /**
   * A message of a followed room: delivered if it is the next one, dropped if already delivered, and
   * when positions were skipped, the missing ones are fetched from history first.
   * @param {number} room
   * @param {Message} message
   * @param {boolean} replayed
   */
  arrived(room, message, replayed) {
    const state = this.rooms.get(room);
    if (!state) return;
    if (state.filling) {
      state.buffer.push(message);
      return;
    }
    if (state.last !== null && message.position <= state.last) return;
    if (state.last !== null && message.position > state.last + 1) {
      void this.fill(room, state.last, message.position - 1, message);
      return;
    }
    state.last = message.position;
    this.outbox.delivered(message);
    this.emit("message", { room, message, replayed });
  }

  /**
   * Fetches positions `after + 1 ..= upTo` from history, delivers them, then what arrived meanwhile.
   * @param {number} room
   * @param {number} after
   * @param {number} upTo
   * @param {Message | null} then
   */
  async fill(room, after, upTo, then) {
    const state = this.rooms.get(room);
    if (!state || state.filling) {
      if (state && then) state.buffer.push(then);
      return;
    }
    state.filling = true;
    if (then) state.buffer.push(then);
    try {
      const missed = await this.history.range(room, Math.max(after, state.last ?? after), upTo);
      state.filling = false;
      for (const message of missed) this.arrived(room, message, true);
    } catch (error) {
      state.filling = false;
      this.emit("problem", { room, detail: `could not load missed messages: ${/** @type {Error} */ (error).message}` });
      // Take what we have: the live stream goes on, and the gap check fetches again on the next one.
      state.last = Math.max(state.last ?? 0, upTo);
    }
    const buffered = state.buffer.splice(0).sort((a, b) => a.position - b.position);
    for (const message of buffered) this.arrived(room, message, false);
  }
}
