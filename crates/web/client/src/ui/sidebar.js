// The sidebar's room list, kept live over the page's one WebSocket: every listed room is subscribed
// (from the newest position the page was rendered with, so nothing between render and connect is
// missed); a message moves its room to the top with a new preview and, unless the member is looking
// at it, one more unread; the member's own read positions (from any device) clear the count; rooms
// joined elsewhere or started by someone else appear, and rooms the member lost disappear with the
// reason. Positions have no holes, so unread = newest position - read position.

import { el } from "./dom.js";

/**
 * @typedef {import("../lib/client.js").NatterClient} NatterClient
 * @typedef {import("../lib/history.js").Message} Message
 * @typedef {import("../lib/history.js").RoomListItem} RoomListItem
 * @typedef {{
 *   id: number, name: string, direct: boolean, unread: number, mentions: number, last: number,
 *   item: HTMLLIElement
 * }} Entry
 */

const MUTED_KEY = "natter.muted";

/** Rooms the member muted on this browser (no notifications, not counted in the title). */
export function mutedRooms() {
  try {
    return new Set(/** @type {number[]} */ (JSON.parse(localStorage.getItem(MUTED_KEY) ?? "[]")));
  } catch {
    return new Set();
  }
}

/** @param {number} room @param {boolean} muted */
export function setMuted(room, muted) {
  const rooms = mutedRooms();
  if (muted) rooms.add(room);
  else rooms.delete(room);
  localStorage.setItem(MUTED_KEY, JSON.stringify([...rooms]));
}

/** @param {Message} message */
function previewText(message) {
  if (message.deleted) return "message deleted";
  if (message.text) return message.text.slice(0, 120);
  return message.file ? `shared ${message.file.name}` : "";
}

export class Sidebar {
  /**
   * @param {{
   *   list: HTMLUListElement, notice: HTMLElement, client: NatterClient, me: number, current: number,
   *   isSeen: () => boolean, onChange: () => void, onMessage: (entry: Entry, message: Message) => void
   * }} options
   */
  constructor({ list, notice, client, me, current, isSeen, onChange, onMessage }) {
    this.list = list;
    this.notice = notice;
    this.client = client;
    this.me = me;
    this.current = current;
    this.isSeen = isSeen;
    this.onChange = onChange;
    this.onMessage = onMessage;
    /** @type {Map<number, Entry>} */
    this.entries = new Map();
    this.muted = mutedRooms();
    for (const item of list.querySelectorAll("li[data-room-id]")) {
      const li = /** @type {HTMLLIElement} */ (item);
      const entry = {
        id: Number(li.dataset.roomId),
        name: li.querySelector(".room-name")?.textContent ?? "",
        direct: li.dataset.kind === "direct",
        unread: Number(li.dataset.unread ?? 0),
        mentions: Number(li.dataset.mentions ?? 0),
        last: Number(li.dataset.last ?? 0),
        item: li,
      };
      this.entries.set(entry.id, entry);
      this.paint(entry);
    }
    notice.querySelector("button")?.addEventListener("click", () => (notice.hidden = true));
    client.on("message", ({ room, message }) => this.message(room, message));
    client.on("member_read", (frame) => frame.member_id === me && this.read(frame.room, frame.position));
    client.on("read", (frame) => this.read(frame.room, frame.position));
    client.on("removed", (frame) => this.removed(frame.room, frame.reason));
    client.on("room_changed", () => void this.refresh());
    client.on("friends_changed", () => void this.friendsChanged());
    client.on("edited", (change) => this.changed(change.room, change.position, change.text));
    client.on("deleted", (change) => this.changed(change.room, change.position, "message deleted"));
  }

  /** The room on screen changed (switched in place). @param {number} room */
  setCurrent(room) {
    const before = this.entries.get(this.current);
    this.current = room;
    if (before) this.paint(before);
    const now = this.entries.get(room);
    if (now) this.paint(now);
    for (const link of this.list.querySelectorAll("a[aria-current]")) link.removeAttribute("aria-current");
    now?.item.querySelector("a")?.setAttribute("aria-current", "page");
  }

  /**
   * Subscribes to every listed room, but the open one when its conversation subscribes itself.
   * @param {boolean} skipCurrent
   */
  joinAll(skipCurrent) {
    for (const entry of this.entries.values()) {
      if (!(skipCurrent && entry.id === this.current)) this.client.join(entry.id, entry.last);
    }
  }

  /** Rooms in the order shown. @returns {Entry[]} */
  ordered() {
    return [...this.list.querySelectorAll("li[data-room-id]")]
      .map((li) => this.entries.get(Number(/** @type {HTMLElement} */ (li).dataset.roomId)))
      .filter((entry) => entry !== undefined);
  }

  /** Unread messages in rooms that are not muted. */
  totalUnread() {
    let total = 0;
    for (const entry of this.entries.values()) if (!this.muted.has(entry.id)) total += entry.unread;
    return total;
  }

  /** @param {number} room @param {boolean} muted */
  mute(room, muted) {
    setMuted(room, muted);
    this.muted = mutedRooms();
    const entry = this.entries.get(room);
    if (entry) this.paint(entry);
    this.onChange();
  }

  /** @param {number} room @param {Message} message */
  message(room, message) {
    const entry = this.entries.get(room);
    if (!entry || message.position <= entry.last) return;
    entry.last = message.position;
    const mine = message.sender_id === this.me;
    if (!mine && !(room === this.current && this.isSeen())) {
      entry.unread += 1;
      if (message.mentions_room || message.mentions?.includes(this.me)) entry.mentions += 1;
    }
    this.setPreview(entry, this.previewSender(entry, message.sender_id, message.sender_name), previewText(message));
    entry.item.dataset.activity = String(message.sent_at_ms);
    this.list.prepend(entry.item);
    this.paint(entry);
    this.onChange();
    if (!mine) this.onMessage(entry, message);
  }

  /** The member read `room` up to `position` (here or on another device). @param {number} room @param {number} position */
  read(room, position) {
    const entry = this.entries.get(room);
    if (!entry) return;
    const unread = Math.max(0, entry.last - position);
    if (unread >= entry.unread) return;
    entry.unread = unread;
    // Which of the rest mention the member is not known here; none when nothing is left.
    entry.mentions = Math.min(entry.mentions, unread);
    this.paint(entry);
    this.onChange();
  }

  /** An edit or deletion of the room's newest message changes its preview. @param {number} room @param {number} position @param {string} text */
  changed(room, position, text) {
    const entry = this.entries.get(room);
    if (!entry || position !== entry.last) return;
    const preview = entry.item.querySelector(".preview .text");
    if (preview) preview.textContent = text.slice(0, 120);
  }

  /** @param {number} room @param {string} reason */
  removed(room, reason) {
    const entry = this.entries.get(room);
    if (!entry) return;
    this.entries.delete(room);
    entry.item.remove();
    this.notice.hidden = false;
    /** @type {HTMLElement} */ (this.notice.querySelector(".text")).textContent = `${entry.name}: ${reason}.`;
    this.onChange();
  }

  /** Re-reads the member's rooms (one joined elsewhere, a new direct chat, a rename). */
  /** A friend request came, or one was answered: the badge follows, and the friends page re-reads. */
  async friendsChanged() {
    if (location.pathname === "/friends") {
      location.reload();
      return;
    }
    const badge = document.getElementById("friend-requests");
    if (!badge) return;
    try {
      const view = await this.client.history.get("/api/v1/friends");
      const waiting = view.incoming.length;
      badge.textContent = String(waiting);
      badge.hidden = waiting === 0;
    } catch {
      // The next page load shows it.
    }
  }

  async refresh() {
    let page;
    try {
      page = await this.client.myRooms();
    } catch (error) {
      console.warn("natter: could not refresh the room list", error);
      return;
    }
    for (const item of page.rooms.slice().reverse()) this.upsert(item);
    this.onChange();
  }

  /** @param {RoomListItem} item */
  upsert(item) {
    const id = item.room.id;
    let entry = this.entries.get(id);
    const last = item.last_message?.position ?? 0;
    if (!entry) {
      const li = /** @type {HTMLLIElement} */ (el("li"));
      li.dataset.roomId = String(id);
      li.dataset.kind = item.room.kind;
      const link = el("a");
      link.href = `/rooms/${id}`;
      const icon = el("span", "room-icon", item.room.kind === "direct" ? "@" : "#");
      icon.setAttribute("aria-hidden", "true");
      const badge = el("span", "badge unread");
      badge.title = "unread messages";
      const mentionBadge = el("span", "badge mention");
      mentionBadge.title = "mentions of you";
      const preview = el("span", "preview");
      preview.append(el("span", "sender"), el("span", "text"));
      link.append(icon, el("span", "room-name"), mentionBadge, badge, preview);
      li.append(link);
      entry = { id, name: "", direct: item.room.kind === "direct", unread: 0, mentions: 0, last: 0, item: li };
      this.entries.set(id, entry);
      this.list.querySelector("li.empty")?.remove();
      this.list.prepend(li);
      entry.last = last;
      entry.unread = item.unread;
      entry.mentions = item.mentions ?? 0;
      if (id !== this.current) this.client.join(id, last);
    } else if (last > entry.last) {
      // Messages the socket has not brought yet arrive through the subscription; keep the count.
      entry.unread = Math.max(entry.unread, item.unread);
      entry.mentions = Math.max(entry.mentions, item.mentions ?? 0);
    }
    entry.name = item.room.name;
    /** @type {HTMLElement} */ (entry.item.querySelector(".room-name")).textContent = item.room.name;
    if (item.last_message && item.last_message.position >= entry.last) {
      const last = item.last_message;
      this.setPreview(entry, this.previewSender(entry, last.sender_id, last.sender_name), last.text);
    } else if (!item.last_message) {
      this.setPreview(entry, "", "No messages yet");
    }
    this.paint(entry);
  }

  /** Who the preview names: "You", the sender in a community room, nobody in a direct chat. @param {Entry} entry @param {number} id @param {string} name */
  previewSender(entry, id, name) {
    if (id === this.me) return "You";
    return entry.direct ? "" : name;
  }

  /** @param {Entry} entry @param {string} sender @param {string} text */
  setPreview(entry, sender, text) {
    const preview = entry.item.querySelector(".preview");
    if (!preview) return;
    const senderSpan = preview.querySelector(".sender") ?? el("span", "sender");
    const textSpan = preview.querySelector(".text") ?? el("span", "text");
    senderSpan.textContent = sender ? `${sender}:` : "";
    textSpan.textContent = text;
    if (!senderSpan.parentNode) preview.prepend(senderSpan);
    if (!textSpan.parentNode) preview.append(textSpan);
  }

  /** @param {Entry} entry */
  paint(entry) {
    const { item } = entry;
    item.dataset.unread = String(entry.unread);
    item.dataset.last = String(entry.last);
    item.classList.toggle("has-unread", entry.unread > 0);
    item.classList.toggle("mentioned", entry.mentions > 0);
    item.dataset.mentions = String(entry.mentions);
    const mention = /** @type {HTMLElement | null} */ (item.querySelector(".badge.mention"));
    if (mention) {
      mention.hidden = entry.mentions === 0;
      mention.textContent = `@${entry.mentions > 99 ? "99+" : entry.mentions}`;
      mention.append(el("span", "visually-hidden", entry.mentions === 1 ? " mention" : " mentions"));
    }
    item.classList.toggle("direct", entry.direct);
    item.classList.toggle("muted", this.muted.has(entry.id));
    item.classList.toggle("current", entry.id === this.current);
    const badge = /** @type {HTMLElement | null} */ (item.querySelector(".badge.unread"));
    if (badge) {
      badge.hidden = entry.unread === 0;
      badge.textContent = entry.unread > 99 ? "99+" : String(entry.unread);
      badge.append(el("span", "visually-hidden", " unread"));
    }
  }
}
