// The message list of one room: a window of consecutive messages from history (at most MAX_ROWS in the
// DOM, so a room of any length stays smooth), opened where the member left off, paged older and newer
// as they scroll, with live messages appended when the window reaches the newest one.
//
// The window always holds consecutive positions (lo..hi). Live messages (the client library delivers
// them once each, in order) extend it only when it ends at the newest message; otherwise the newer
// pages are read from history, which holds every message before anyone is shown it.

import { applyReaction } from "../lib/reactions.js";
import { fill, messageRow, showReactions, whisperRow } from "./message-view.js";

/**
 * @typedef {import("../lib/history.js").Message} Message
 * @typedef {import("../lib/history.js").Whisper} Whisper
 * @typedef {import("../lib/client.js").NatterClient} NatterClient
 */

const PAGE = 50;
const MAX_ROWS = 300;
/** Within this many pixels of an edge, the next page is loaded (or the view counts as "at the bottom"). */
const EDGE_PX = 400;
const BOTTOM_PX = 80;

export class Conversation {
  /**
   * @param {{
   *   scroller: HTMLElement, list: HTMLElement, jump: HTMLButtonElement, client: NatterClient,
   *   room: number, me: number, canPost: boolean, canModerate: boolean, readPosition: number,
   *   onReply: (message: Message) => void, onEdit: (row: HTMLElement, message: Message) => void,
   *   onDelete: (message: Message) => void, onLink: (row: HTMLElement, message: Message) => void,
   *   onImage: (link: HTMLAnchorElement) => void, avatarOf?: (member: number) => string | undefined,
   *   canReact: boolean, onReact: (message: Message, emoji: string, added: boolean) => void,
   *   onPickReaction: (button: HTMLElement, message: Message) => void,
   *   nameOf: (member: number) => string | undefined,
   *   onReport: (message: { id: string, author: string, text: string }) => void,
   * }} options
   */
  constructor(options) {
    this.o = options;
    this.scroller = options.scroller;
    this.list = options.list;
    /** @type {Message[]} consecutive positions, oldest first */
    this.messages = [];
    this.atStart = true;
    this.atEnd = true;
    /** The newest position the room is known to have. */
    this.newest = 0;
    /** Messages up to here were read when the room was opened: the divider goes after it. */
    this.readAtOpen = options.readPosition;
    this.loading = false;
    /** @type {Message[]} live messages that came while the first window was loading */
    this.held = [];
    this.opened = false;
    /** @type {Map<number, string>} reply snippets of messages outside the window */
    this.snippets = new Map();
    /** The member's whispers in the room, by id; each shows after the message at its `after`. @type {Map<string, Whisper>} */
    this.whispers = new Map();
    this.scroller.addEventListener("scroll", () => this.scrolled(), { passive: true });
    this.list.addEventListener("click", (event) => this.clicked(event));
    options.jump.addEventListener("click", () => void this.jumpToLatest());
  }

  get history() {
    return this.o.client.history;
  }

  /** @param {number} position */
  row(position) {
    return /** @type {HTMLElement | null} */ (this.list.querySelector(`li[data-position="${position}"]`));
  }

  /** @param {number} position */
  message(position) {
    const first = this.messages[0];
    return first ? this.messages[position - first.position] : undefined;
  }

  /**
   * Loads the window around `focus` (a position), or the newest messages when null, and shows it:
   * `focus` at the top third of the view, else the bottom. Returns the newest position in the room.
   * @param {number | null} focus
   */
  async open(focus) {
    this.loading = true;
    try {
      const newest = await this.history.before(this.o.room, null, PAGE);
      this.newest = Math.max(this.newest, newest.at(-1)?.position ?? 0);
      let window = newest;
      if (focus !== null && newest.length > 0 && focus < newest[0].position) {
        const older = await this.history.before(this.o.room, focus, PAGE / 2);
        const newer = await this.history.after(this.o.room, focus - 1, PAGE);
        window = [...older, ...newer];
      }
      this.messages = window;
      this.atStart = window.length === 0 || window[0].position === 1;
      this.atEnd = window.length === 0 || (window.at(-1)?.position ?? 0) >= this.newest;
      this.renderAll();
      void this.loadWhispers((window[0]?.position ?? 1) - 1, null);
      if (focus !== null && this.row(focus)) this.reveal(focus, false);
      else this.scrollToBottom();
    } finally {
      this.loading = false;
    }
    this.opened = true;
    for (const message of this.held.splice(0)) this.live(message);
    this.updateJump();
    this.fillView();
    return this.newest;
  }

  renderAll() {
    this.list.replaceChildren(...this.messages.map((m, i) => this.build(m, this.messages[i - 1] ?? null)));
    this.placeWhispers();
  }

  /** Whispers read from history for the window's positions `from..=to` (no end when null). @param {number} from @param {number | null} to */
  async loadWhispers(from, to) {
    try {
      for (const whisper of await this.history.whispers(this.o.room, from, to)) this.whispers.set(whisper.message_id, whisper);
    } catch {
      // Whispers are read again with the next page; the room's messages do not wait for them.
      return;
    }
    this.placeWhispers();
  }

  /** A live whisper (or one replayed after a resume: each is shown once). @param {Whisper} whisper */
  whisper(whisper) {
    if (this.whispers.has(whisper.message_id)) return;
    const stick = this.nearBottom();
    this.whispers.set(whisper.message_id, whisper);
    this.placeWhispers();
    if (stick || whisper.sender_id === this.o.me) this.scrollToBottom();
  }

  /** Puts each whisper's row right after the message it follows, when that message is shown. */
  placeWhispers() {
    for (const row of this.list.querySelectorAll("li.whisper")) row.remove();
    const sorted = [...this.whispers.values()].sort((a, b) => a.after - b.after || a.sent_at_ms - b.sent_at_ms);
    const first = this.messages[0]?.position ?? 1;
    /** @type {Map<number, HTMLElement>} the last row placed after each position */
    const last = new Map();
    for (const whisper of sorted) {
      const anchor = last.get(whisper.after) ?? this.row(whisper.after);
      const row = whisperRow(whisper, { me: this.o.me, avatarOf: this.o.avatarOf ?? (() => undefined) });
      if (anchor) anchor.after(row);
      else if (whisper.after < first && this.atStart) this.list.prepend(row);
      else continue;
      last.set(whisper.after, row);
    }
    // A message right after a whisper starts a group of its own (its sender's name shows again).
    for (const row of last.values()) {
      const next = /** @type {HTMLElement | null} */ (row.nextElementSibling);
      if (!next?.classList.contains("continued") || !next.dataset.position) continue;
      const position = Number(next.dataset.position);
      const message = this.message(position);
      const before = this.message(position - 1);
      if (message && before) next.replaceWith(this.build(message, { ...before, sender_id: -1 }));
    }
  }

  /** @param {Message} message @param {Message | null} previous */
  build(message, previous) {
    return messageRow(message, {
      me: this.o.me,
      canPost: this.o.canPost,
      canReact: this.o.canReact,
      canModerate: this.o.canModerate,
      nameOf: this.o.nameOf,
      previous,
      divider: message.position === this.readAtOpen + 1 && this.readAtOpen > 0,
      quote: (position) => this.quote(position),
      avatarOf: this.o.avatarOf ?? (() => undefined),
    });
  }

  /** Rebuilds the row of `position` (its neighbours changed: grouping, separators). @param {number} position */
  rebuild(position) {
    const message = this.message(position);
    const row = this.row(position);
    if (!message || !row) return;
    row.replaceWith(this.build(message, this.message(position - 1) ?? null));
  }

  /** A live message of the room (in order, once each). @param {Message} message */
  live(message) {
    if (!this.opened) {
      this.held.push(message);
      return;
    }
    this.newest = Math.max(this.newest, message.position);
    const last = this.messages.at(-1);
    if (last && message.position <= last.position) return; // already shown (read from history)
    if (!this.atEnd || (last && message.position !== last.position + 1)) {
      this.atEnd = false;
      this.updateJump(true);
      return;
    }
    const stick = this.nearBottom();
    this.messages.push(message);
    this.list.append(this.build(message, last ?? null));
    this.trimTop();
    this.placeWhispers();
    if (stick || message.sender_id === this.o.me) this.scrollToBottom();
    this.updateJump(!stick);
  }

  /** @param {{ position: number, text: string, edited_at_ms: number }} change */
  edited(change) {
    const message = this.message(change.position);
    if (!message || message.deleted) return;
    message.text = change.text;
    message.edited_at_ms = change.edited_at_ms;
    const row = this.row(change.position);
    if (row && !row.classList.contains("editing")) fill(row, message);
    this.refreshQuotes(change.position);
  }

  /** @param {import("../lib/reactions.js").ReactionChange} change */
  reactionChanged(change) {
    const message = this.message(change.position);
    if (!message || message.message_id !== change.message_id) return;
    message.reactions = applyReaction(message.reactions ?? [], change, this.o.me);
    const row = this.row(change.position);
    if (row) showReactions(row, message, this.o.me, this.o.nameOf);
  }

  /** @param {{ position: number }} change */
  deleted(change) {
    this.snippets.set(change.position, "message deleted");
    const message = this.message(change.position);
    if (!message) return;
    message.deleted = true;
    message.text = "";
    delete message.file;
    const row = this.row(change.position);
    if (row) {
      row.classList.remove("editing");
      fill(row, message);
    }
    this.refreshQuotes(change.position);
  }

  /**
   * The snippet shown in a reply's quote; fetched from history when outside the window.
   * @param {number} position
   * @returns {string | null}
   */
  quote(position) {
    const message = this.message(position);
    if (message) return message.deleted ? "message deleted" : snippet(message);
    const known = this.snippets.get(position);
    if (known !== undefined) return known;
    this.snippets.set(position, "…");
    void this.history.after(this.o.room, position - 1, 1).then(
      ([found]) => {
        this.snippets.set(position, found && found.position === position ? (found.deleted ? "message deleted" : snippet(found)) : "not found");
        this.refreshQuotes(position);
      },
      () => this.snippets.delete(position),
    );
    return null;
  }

  /** @param {number} position */
  refreshQuotes(position) {
    const text = this.quote(position);
    for (const quote of this.list.querySelectorAll(`.quote[data-position="${position}"] .snippet`)) {
      quote.textContent = text ?? "…";
    }
  }

  // ---- scrolling --------------------------------------------------------------------------------

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < BOTTOM_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /**
   * Scrolls `position` into view (upper third) and, if `flash`, highlights it for a moment.
   * @param {number} position
   * @param {boolean} flash
   */
  reveal(position, flash) {
    const row = this.row(position);
    if (!row) return;
    const divider = row.querySelector(".divider");
    const target = /** @type {HTMLElement} */ (divider ?? row);
    this.scroller.scrollTop = Math.max(0, target.offsetTop - this.list.offsetTop - this.scroller.clientHeight / 3);
    if (flash) {
      row.classList.add("flash");
      setTimeout(() => row.classList.remove("flash"), 2000);
    }
  }

  /** Shows `position`, loading the window around it when it is not in it. @param {number} position */
  async jumpTo(position) {
    if (!this.row(position)) await this.open(position);
    this.reveal(position, true);
  }

  async jumpToLatest() {
    if (!this.atEnd) await this.open(null);
    this.scrollToBottom();
    this.updateJump();
  }

  /** @param {boolean} [fresh] new messages arrived below */
  updateJump(fresh = false) {
    const away = !this.atEnd || !this.nearBottom();
    this.o.jump.hidden = !away;
    if (fresh) this.o.jump.classList.add("fresh");
    if (!away) this.o.jump.classList.remove("fresh");
  }

  scrolled() {
    this.updateJump();
    if (this.loading) return;
    const s = this.scroller;
    if (!this.atStart && s.scrollTop < EDGE_PX) void this.loadOlder();
    else if (!this.atEnd && s.scrollHeight - s.scrollTop - s.clientHeight < EDGE_PX) void this.loadNewer();
  }

  async loadOlder() {
    const first = this.messages[0];
    if (!first || this.loading) return;
    this.loading = true;
    try {
      const older = await this.history.before(this.o.room, first.position, PAGE);
      if (older.length === 0 || older.at(-1)?.position !== first.position - 1) {
        this.atStart = true;
        return;
      }
      const height = this.scroller.scrollHeight;
      const top = this.scroller.scrollTop;
      this.messages.unshift(...older);
      const rows = older.map((m, i) => this.build(m, older[i - 1] ?? null));
      this.list.prepend(...rows);
      this.rebuild(first.position);
      void this.loadWhispers(older[0].position - 1, first.position - 1);
      this.scroller.scrollTop = top + (this.scroller.scrollHeight - height);
      this.atStart = older[0].position === 1;
      this.trimBottom();
    } finally {
      this.loading = false;
    }
    this.fillView();
  }

  async loadNewer() {
    const last = this.messages.at(-1);
    if (!last || this.loading) return;
    this.loading = true;
    try {
      const newer = await this.history.after(this.o.room, last.position, PAGE);
      if (newer.length === 0) {
        this.atEnd = true;
        return;
      }
      this.messages.push(...newer);
      this.list.append(...newer.map((m, i) => this.build(m, i === 0 ? last : newer[i - 1])));
      void this.loadWhispers(last.position, null);
      const end = newer.at(-1)?.position ?? 0;
      this.newest = Math.max(this.newest, end);
      this.atEnd = end >= this.newest;
      this.trimTop();
    } finally {
      this.loading = false;
    }
    this.updateJump();
    this.fillView();
  }

  /** Loads the next page when the view is near an open edge without a scroll to say so (a short
   * window, or its first row at the very top: scrolling up there fires no scroll event). */
  fillView() {
    requestAnimationFrame(() => this.scrolled());
  }

  /** Keeps the DOM small: drops the oldest rows, keeping what is on screen where it is. */
  trimTop() {
    const extra = this.messages.length - MAX_ROWS;
    if (extra <= 0) return;
    const keep = this.row(this.messages[extra].position);
    const before = keep ? keep.offsetTop : 0;
    for (const m of this.messages.splice(0, extra)) this.row(m.position)?.remove();
    this.rebuild(this.messages[0].position);
    const after = this.row(this.messages[0].position)?.offsetTop ?? 0;
    this.scroller.scrollTop -= before - after;
    this.atStart = false;
  }

  trimBottom() {
    const extra = this.messages.length - MAX_ROWS;
    if (extra <= 0) return;
    for (const m of this.messages.splice(this.messages.length - extra)) this.row(m.position)?.remove();
    this.atEnd = false;
    this.updateJump();
  }

  /** The newest position on screen (for read marks), or 0. */
  newestVisible() {
    const bottom = this.scroller.getBoundingClientRect().bottom;
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const row = this.row(this.messages[i].position);
      if (row && row.getBoundingClientRect().top < bottom - 8) return this.messages[i].position;
    }
    return 0;
  }

  /** The position at the top of the view, to come back to after a reload. */
  topVisible() {
    const top = this.scroller.getBoundingClientRect().top;
    for (const m of this.messages) {
      const row = this.row(m.position);
      if (row && row.getBoundingClientRect().bottom > top + 8) return m.position;
    }
    return null;
  }

  // ---- actions ----------------------------------------------------------------------------------

  /** @param {MouseEvent} event */
  clicked(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const quote = target.closest(".quote");
    if (quote instanceof HTMLElement) {
      void this.jumpTo(Number(quote.dataset.position));
      return;
    }
    const image = target.closest("a.file.image");
    if (image instanceof HTMLAnchorElement) {
      event.preventDefault();
      this.o.onImage(image);
      return;
    }
    const chip = target.closest("button.reaction");
    const row = target.closest("li.row");
    if (chip instanceof HTMLElement && row instanceof HTMLElement) {
      const message = this.message(Number(row.dataset.position));
      if (message && this.o.canReact) this.o.onReact(message, chip.dataset.emoji ?? "", chip.getAttribute("aria-pressed") !== "true");
      return;
    }
    const button = target.closest(".actions button");
    if (!(button instanceof HTMLElement) || !(row instanceof HTMLElement)) return;
    if (button.classList.contains("action-report")) {
      const whisper = row.dataset.whisperId ? this.whispers.get(row.dataset.whisperId) : undefined;
      const reported = whisper ?? this.message(Number(row.dataset.position));
      if (reported) this.o.onReport({ id: reported.message_id, author: reported.sender_name, text: reported.text });
      return;
    }
    const message = this.message(Number(row.dataset.position));
    if (!message) return;
    if (button.classList.contains("action-react")) this.o.onPickReaction(button, message);
    else if (button.classList.contains("action-reply")) this.o.onReply(message);
    else if (button.classList.contains("action-edit")) this.o.onEdit(row, message);
    else if (button.classList.contains("action-delete")) this.o.onDelete(message);
    else if (button.classList.contains("action-link")) this.o.onLink(row, message);
  }

  /** The member's newest message in the window that they may still edit. */
  lastOwn() {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i];
      if (m.sender_id === this.o.me && !m.deleted) return m;
    }
    return null;
  }

  /**
   * Shows what the server said about a message next to it.
   * @param {number} position
   * @param {string} text
   */
  problem(position, text) {
    const box = this.row(position)?.querySelector(".problem");
    if (box) box.textContent = text;
  }
}

/** @param {Message} message */
function snippet(message) {
  const text = message.text.replace(/\s+/g, " ").trim() || (message.file ? message.file.name : "");
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}
