// One open room: wires the page's client to the conversation, the composer, the people panel and the
// dialogs of the room's part of the page (`#app-main`). Its data (room, member, read position, rights)
// comes from the server-rendered `#room` element. `openRoom` is called for the room the page was
// loaded with and again for every room switched to in place; aborting `signal` detaches it (its
// elements are then replaced).

import { CallBar } from "./ui/call.js";
import { Composer } from "./ui/composer.js";
import { Conversation } from "./ui/conversation.js";
import { MentionComplete } from "./ui/mention-complete.js";
import { ReactionPicker } from "./ui/reaction-picker.js";
import { ago, avatarColour, initials } from "./ui/format.js";
import { el } from "./ui/message-view.js";
import { livePeople } from "./ui/people.js";
import { connectionBanner, typingLine } from "./ui/status-line.js";

/**
 * @typedef {import("./lib/history.js").Message} Message
 * @typedef {import("./lib/events.js").Outgoing} Outgoing
 */

/** @template {HTMLElement} T @param {string} id @returns {T} */
const byId = (id) => /** @type {T} */ (document.getElementById(id));

/**
 * @param {{
 *   client: import("./lib/client.js").NatterClient, shell: ReturnType<typeof import("./ui/shell.js").startShell>,
 *   signal: AbortSignal,
 * }} options
 * @returns {{ room: number, markAllRead: () => void }}
 */
export function openRoom({ client: shared, shell, signal }) {
  const client = detachable(shared, signal);
  const root = byId("room");
  const data = root.dataset;
  const room = Number(data.room);
  const me = Number(data.me);
  const canPost = data.canPost === "true";
  const status = byId("status");
  const errors = byId("errors");

  /** Uploaded avatars of the people listed beside the conversation. @type {Map<number, string>} */
  const avatars = new Map(
    [...document.querySelectorAll("#people li[data-avatar]")].map((li) => {
      const item = /** @type {HTMLElement} */ (li);
      return [Number(item.dataset.memberId), item.dataset.avatar ?? ""];
    }),
  );

  connectionBanner(byId("banner"), status, client, signal);
  typingLine(byId("typing"), client, room, signal);

  const conversation = new Conversation({
    scroller: byId("scroller"),
    list: byId("messages"),
    jump: byId("jump"),
    client,
    room,
    me,
    canPost,
    canModerate: data.canModerate === "true",
    readPosition: Number(data.readPosition ?? 0),
    onReply: (message) => composer?.reply(message),
    onEdit: (row, message) => startEdit(row, message),
    onDelete: (message) => confirmDelete(message),
    onReport: (message) => askReport(message),
    onLink: (row, message) => copyLink(row, message),
    onImage: (link) => showImage(link),
    avatarOf: (member) => avatars.get(member),
    canReact: data.canReact === "true",
    onReact: (message, emoji, added) => react(message, emoji, added),
    onPickReaction: (button, message) => picker.open(button, (emoji) => react(message, emoji, true)),
    nameOf: (member) =>
      /** @type {HTMLElement | null} */ (document.querySelector(`#people li[data-member-id="${member}"]`))?.dataset.name,
  });
  // What reaches the member while away (kept by the server, for push notifications).
  const notifyLevel = /** @type {HTMLSelectElement | null} */ (document.getElementById("notify-level"));
  notifyLevel?.addEventListener("change", async () => {
    try {
      const token = await shared.tokens.api.get();
      const answer = await fetch(`/api/v1/rooms/${room}/notify`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ level: notifyLevel.value }),
      });
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    } catch (error) {
      errors.textContent = `Notification choice not saved: ${/** @type {Error} */ (error).message}`;
    }
  });
  const picker = new ReactionPicker();
  signal.addEventListener("abort", () => picker.box.remove());

  /** @param {import("./lib/history.js").Message} message @param {string} emoji @param {boolean} added */
  async function react(message, emoji, added) {
    try {
      await client.react(room, message.message_id, emoji, added);
    } catch (error) {
      conversation.problem(message.position, `Reaction not saved: ${/** @type {Error} */ (error).message}`);
    }
  }

  // Mute (this browser): no notifications, not counted in the title.
  const muteButton = byId("mute");
  const showMute = () => {
    const muted = shell.sidebar.muted.has(room);
    muteButton.setAttribute("aria-pressed", String(muted));
    muteButton.textContent = muted ? "Muted" : "Mute";
    muteButton.title = muted ? "Unmute: count this room and notify again" : "Mute: no notifications, not counted in the title";
  };
  muteButton.addEventListener("click", () => {
    shell.sidebar.mute(room, !shell.sidebar.muted.has(room));
    showMute();
  });
  showMute();

  // The people panel: shown beside the conversation on wide screens, over it on narrow ones.
  const peopleToggle = byId("people-toggle");
  peopleToggle.addEventListener("click", () => {
    const layout = /** @type {HTMLElement} */ (document.querySelector(".room-layout"));
    const open = !layout.classList.contains("people-open");
    layout.classList.toggle("people-open", open);
    peopleToggle.setAttribute("aria-expanded", String(open));
  });

  livePeople({ list: byId("people"), client, room, me, signal });

  // The room's call: shown when one is going on, joined from its bar or the header's "Start call".
  new CallBar({
    root: byId("call"),
    startButton: /** @type {HTMLButtonElement | null} */ (document.getElementById("call-start")),
    client,
    room,
    me,
    canTalk: data.canTalk === "true",
    iceServers: async () => {
      const token = await shared.tokens.api.get();
      const answer = await fetch("/api/v1/calls/ice", { headers: { Authorization: `Bearer ${token}` } });
      if (!answer.ok) throw new Error(`ICE servers: HTTP ${answer.status}`);
      return (await answer.json()).ice_servers;
    },
    signal,
  });

  // Profile cards: a person's name opens their card, with "Message" for a direct chat.
  const profile = /** @type {HTMLDialogElement} */ (byId("profile-card"));
  /** @type {string} */
  let profileUsername = "";
  byId("people").addEventListener("click", (event) => {
    const item = /** @type {HTMLElement | null} */ ((/** @type {HTMLElement} */ (event.target)).closest("button.person"))?.closest("li");
    if (!item) return;
    const id = Number(item.dataset.memberId);
    profileUsername = item.dataset.username ?? "";
    const avatar = /** @type {HTMLElement} */ (profile.querySelector(".avatar"));
    avatar.textContent = item.dataset.avatar ? "" : initials(item.dataset.name ?? "");
    avatar.style.background = avatarColour(id);
    if (item.dataset.avatar) {
      const image = el("img");
      image.src = item.dataset.avatar;
      image.alt = "";
      avatar.append(image);
    }
    /** @type {HTMLElement} */ (profile.querySelector("#profile-name")).textContent = item.dataset.name ?? "";
    /** @type {HTMLElement} */ (profile.querySelector(".profile-username")).textContent = `@${profileUsername}`;
    /** @type {HTMLElement} */ (profile.querySelector(".profile-presence")).textContent = item.querySelector(".presence")?.textContent ?? "";
    /** @type {HTMLElement} */ (profile.querySelector("#profile-message")).hidden = id === me;
    const whisperButton = /** @type {HTMLElement | null} */ (profile.querySelector("#profile-whisper"));
    if (whisperButton) whisperButton.hidden = id === me || !canPost;
    profile.returnValue = "";
    profile.showModal();
  });
  profile.addEventListener("close", () => {
    if (profile.returnValue === "message" && profileUsername) shell.messagePerson(profileUsername);
    if (profile.returnValue === "whisper" && profileUsername) {
      const input = /** @type {HTMLTextAreaElement} */ (byId("text"));
      input.value = `/w @${profileUsername} `;
      input.focus();
    }
  });

  /** @type {Composer | null} */
  const composer = canPost
    ? new Composer({
        form: byId("composer"),
        input: byId("text"),
        counter: byId("counter"),
        replying: byId("replying"),
        attachment: byId("attachment"),
        picker: byId("file"),
        dropZone: byId("conversation"),
        client,
        room,
        mentions: new MentionComplete({
          input: byId("text"),
          people: () =>
            [...document.querySelectorAll("#people li[data-username]")]
              .map((li) => /** @type {HTMLElement} */ (li))
              .filter((li) => Number(li.dataset.memberId) !== me)
              .map((li) => ({ username: li.dataset.username ?? "", name: li.dataset.name ?? "" })),
        }),
        onSent: () => {
          errors.textContent = "";
          if (!conversation.atEnd) void conversation.jumpToLatest();
          else conversation.scrollToBottom();
        },
        onEditLast: () => {
          const last = conversation.lastOwn();
          const row = last && conversation.row(last.position);
          if (last && row) startEdit(row, last);
        },
        onProblem: (text) => (errors.textContent = text),
        onWhisper: (username, text) => void whisper(username, text),
      })
    : null;

  /** Whispers `text` to the room's member `username`. @param {string} username @param {string} text */
  async function whisper(username, text) {
    const person = [...document.querySelectorAll("#people li[data-username]")]
      .map((li) => /** @type {HTMLElement} */ (li))
      .find((li) => (li.dataset.username ?? "").toLowerCase() === username.toLowerCase());
    if (!person) {
      errors.textContent = `No one called @${username} in this room to whisper to.`;
      return;
    }
    try {
      await client.whisper(room, Number(person.dataset.memberId), text);
      errors.textContent = "";
    } catch (error) {
      errors.textContent = `Whisper not sent: ${/** @type {Error} */ (error).message}`;
    }
  }
  client.on("whisper", ({ whisper: w }) => w.room_id === room && conversation.whisper(w));

  // ---- messages being sent ------------------------------------------------------------------------

  const outbox = byId("outbox");

  /** @param {Outgoing} entry */
  function outgoingRow(entry) {
    let row = /** @type {HTMLElement | null} */ (outbox.querySelector(`li[data-client-msg-id="${entry.clientMsgId}"]`));
    if (!row) {
      row = el("li", "row mine pending");
      row.dataset.clientMsgId = entry.clientMsgId;
      const text = el("div", "text");
      text.textContent = entry.text || "(file)";
      row.append(text, el("div", "state"));
      outbox.append(row);
      conversation.scrollToBottom();
    }
    return row;
  }

  client.on("outgoing", (entry) => {
    if (entry.room !== room) return;
    const row = outgoingRow(entry);
    row.classList.toggle("failed", entry.state === "failed");
    const state = /** @type {HTMLElement} */ (row.querySelector(".state"));
    state.replaceChildren();
    if (entry.state === "sending") state.textContent = "sending…";
    else if (entry.state === "failed") {
      state.append(`not sent: ${entry.error ?? "refused"} — `);
      const retry = el("button", "retry", "retry");
      retry.type = "button";
      retry.addEventListener("click", () => client.retry(entry.clientMsgId));
      const discard = el("button", "discard", "discard");
      discard.type = "button";
      discard.addEventListener("click", () => {
        client.discard(entry.clientMsgId);
        row.remove();
      });
      state.append(retry, " ", discard);
    } else {
      // Placed: the message itself shows in the list (now, or once the view reaches the newest).
      if (conversation.row(entry.position ?? -1) || !conversation.atEnd) row.remove();
      else row.dataset.position = String(entry.position);
    }
  });

  // ---- the live stream ----------------------------------------------------------------------------

  client.on("message", ({ room: r, message }) => {
    if (r !== room) return;
    conversation.live(message);
    outbox.querySelector(`li[data-position="${message.position}"]`)?.remove();
    markRead();
  });
  client.on("edited", (change) => change.room === room && conversation.edited(change));
  client.on("deleted", (change) => change.room === room && conversation.deleted(change));
  client.on("reaction_changed", (change) => change.room === room && conversation.reactionChanged(change));
  client.on("removed", (event) => {
    if (event.room !== room) return;
    status.textContent = "removed";
    errors.textContent = `You can no longer use this room: ${event.reason}`;
    byId("composer")?.querySelectorAll("textarea, button, input").forEach((c) => ((/** @type {HTMLInputElement} */ (c)).disabled = true));
  });
  client.on("problem", (p) => {
    if (p.room === undefined || p.room === room) errors.textContent = p.detail;
  });
  client.on("presence", (frame) => {
    const item = document.querySelector(`#people li[data-member-id="${Number(frame.member_id)}"]`);
    if (!(item instanceof HTMLElement)) return;
    item.dataset.state = frame.state;
    item.querySelector(".dot")?.setAttribute("class", `dot ${frame.state}`);
    const label = item.querySelector(".presence");
    if (frame.state === "offline" && frame.last_seen_ms) item.dataset.lastSeen = String(frame.last_seen_ms);
    else delete item.dataset.lastSeen;
    if (label) label.textContent = frame.state;
    wordLastSeen();
  });

  /** "last seen 5 minutes ago", in the reader's words, kept current. */
  function wordLastSeen() {
    for (const li of document.querySelectorAll("#people li[data-last-seen]")) {
      const item = /** @type {HTMLElement} */ (li);
      const label = /** @type {HTMLElement | null} */ (item.querySelector(".presence"));
      const ms = Number(item.dataset.lastSeen);
      if (!label || !ms) continue;
      label.textContent = `last seen ${ago(ms)}`;
      label.title = new Date(ms).toLocaleString();
    }
  }
  wordLastSeen();
  const wording = setInterval(wordLastSeen, 60000);
  signal.addEventListener("abort", () => clearInterval(wording));

  // Read receipts in the people list.
  client.on("member_read", (frame) => {
    const item = document.querySelector(`#people li[data-member-id="${Number(frame.member_id)}"]`);
    if (!(item instanceof HTMLElement) || Number(item.dataset.read ?? 0) >= frame.position) return;
    item.dataset.read = String(frame.position);
    const label = item.querySelector(".read");
    if (label) label.textContent = `read to #${frame.position}`;
  });

  // ---- reading --------------------------------------------------------------------------------------

  /** Marks the room read up to the newest message on screen, only while the page is seen. */
  function markRead() {
    if (document.visibilityState !== "visible" || !document.hasFocus()) return;
    const position = conversation.newestVisible();
    if (position > 0) client.markRead(room, position);
  }
  document.addEventListener("visibilitychange", markRead, { signal });
  window.addEventListener("focus", markRead, { signal });

  const placeKey = `natter.place.${room}`;
  let placeTimer = 0;
  signal.addEventListener("abort", () => clearTimeout(placeTimer));
  byId("scroller").addEventListener("scroll", () => {
    clearTimeout(placeTimer);
    placeTimer = window.setTimeout(() => {
      markRead();
      const top = conversation.nearBottom() && conversation.atEnd ? null : conversation.topVisible();
      if (top === null) sessionStorage.removeItem(placeKey);
      else sessionStorage.setItem(placeKey, String(top));
    }, 200);
  }, { passive: true });

  // ---- editing, deleting, links, images ---------------------------------------------------------------

  /** @param {HTMLElement} row @param {Message} message */
  function startEdit(row, message) {
    if (row.classList.contains("editing") || message.deleted) return;
    row.classList.add("editing");
    const text = /** @type {HTMLElement} */ (row.querySelector(".text"));
    const box = el("textarea", "edit-box");
    box.value = message.text;
    box.setAttribute("aria-label", "Edit message");
    const hint = el("div", "edit-hint", "Enter to save · Esc to cancel");
    text.hidden = true;
    text.after(box, hint);
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    const finish = () => {
      box.remove();
      hint.remove();
      text.hidden = false;
      row.classList.remove("editing");
    };
    box.addEventListener("keydown", async (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        finish();
        byId("text")?.focus();
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        const value = box.value.trim();
        if (!value || value === message.text) return finish();
        box.disabled = true;
        try {
          await client.edit(room, message.message_id, value);
          finish();
          conversation.problem(message.position, "");
        } catch (error) {
          box.disabled = false;
          conversation.problem(message.position, `Not saved: ${/** @type {Error} */ (error).message}`);
        }
      }
    });
  }

  const deleteDialog = /** @type {HTMLDialogElement} */ (byId("delete-dialog"));
  /** @type {Message | null} */
  let deleting = null;

  // Reporting a message (or a whisper received) to the room's owners and admins, with a reason.
  const reportDialog = /** @type {HTMLDialogElement} */ (byId("report-dialog"));
  const reportReason = /** @type {HTMLTextAreaElement} */ (byId("report-reason"));
  /** @type {{ id: string, author: string, text: string } | null} */
  let reporting = null;
  /** @param {{ id: string, author: string, text: string }} message */
  function askReport(message) {
    reporting = message;
    /** @type {HTMLElement} */ (reportDialog.querySelector(".reported")).textContent = `${message.author}: ${message.text.slice(0, 200)}`;
    reportReason.value = "";
    reportDialog.returnValue = "";
    reportDialog.showModal();
  }
  reportDialog.addEventListener("close", async () => {
    const message = reporting;
    reporting = null;
    if (reportDialog.returnValue !== "report" || !message) return;
    try {
      const token = await shared.tokens.api.get();
      const answer = await fetch(`/api/v1/rooms/${room}/reports`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ message_id: message.id, reason: reportReason.value }),
      });
      const body = await answer.json().catch(() => null);
      if (!answer.ok) throw new Error(body?.errors?.[0]?.detail ?? `HTTP ${answer.status}`);
      errors.textContent = "Reported to the room's moderators. Thank you.";
    } catch (error) {
      errors.textContent = `Not reported: ${/** @type {Error} */ (error).message}`;
    }
  });

  /** @param {Message} message */
  function confirmDelete(message) {
    deleting = message;
    // Esc closes a dialog without a value: a stale "delete" must not count as the answer.
    deleteDialog.returnValue = "";
    deleteDialog.showModal();
  }
  deleteDialog.addEventListener("close", async () => {
    const message = deleting;
    deleting = null;
    if (!message || deleteDialog.returnValue !== "delete") return;
    try {
      await client.delete(room, message.message_id);
    } catch (error) {
      conversation.problem(message.position, `Not deleted: ${/** @type {Error} */ (error).message}`);
    }
  });

  /** @param {HTMLElement} row @param {Message} message */
  async function copyLink(row, message) {
    const url = `${location.origin}/rooms/${room}#m${message.position}`;
    try {
      await navigator.clipboard.writeText(url);
      conversation.problem(message.position, "Link copied.");
    } catch {
      conversation.problem(message.position, `Link: ${url}`);
    }
    setTimeout(() => conversation.problem(message.position, ""), 4000);
    row.dataset.link = url;
  }

  const lightbox = /** @type {HTMLDialogElement} */ (byId("lightbox"));
  /** @param {HTMLAnchorElement} link */
  function showImage(link) {
    const image = /** @type {HTMLImageElement} */ (lightbox.querySelector("img"));
    image.src = link.dataset.full ?? link.href;
    image.alt = link.querySelector("img")?.alt ?? "";
    /** @type {HTMLAnchorElement} */ (lightbox.querySelector("a")).href = link.href;
    lightbox.showModal();
  }
  lightbox.addEventListener("click", (event) => {
    if (event.target === lightbox || (/** @type {HTMLElement} */ (event.target)).closest("button")) lightbox.close();
  });

  // ---- start ------------------------------------------------------------------------------------------

  async function start() {
    const fromLink = /^#m(\d+)$/.exec(location.hash);
    const saved = sessionStorage.getItem(placeKey);
    const read = Number(data.readPosition ?? 0);
    const focus = fromLink ? Number(fromLink[1]) : saved ? Number(saved) : read > 0 ? read + 1 : null;
    let newest = 0;
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        newest = await conversation.open(focus);
        break;
      } catch (error) {
        errors.textContent = `Could not load the conversation: ${/** @type {Error} */ (error).message}. Retrying…`;
        await new Promise((resolve) => setTimeout(resolve, Math.min(10000, 500 * 2 ** attempt)));
      }
    }
    if (signal.aborted) return;
    errors.textContent = "";
    // How long the page took to show the conversation (read by the browser tests, which print it).
    performance.mark("natter:conversation-shown");
    if (fromLink) conversation.reveal(Number(fromLink[1]), true);
    // The sidebar may follow the room already (switched to in place): then its messages are arriving.
    if (!shared.follows(room)) client.join(room, newest);
    markRead();
    window.addEventListener("hashchange", () => {
      const m = /^#m(\d+)$/.exec(location.hash);
      if (m) void conversation.jumpTo(Number(m[1]));
    }, { signal });
  }

  void start();

  return {
    room,
    // Esc marks the whole room read, up to its newest message.
    markAllRead: () => {
      const newest = Math.max(conversation.newest, shell.sidebar.entries.get(room)?.last ?? 0);
      if (newest > 0) client.markRead(room, newest);
    },
  };
}

/**
 * The client, with its `on` undone when `signal` aborts (the room's handlers go with its elements).
 * @param {import("./lib/client.js").NatterClient} client
 * @param {AbortSignal} signal
 * @returns {import("./lib/client.js").NatterClient}
 */
function detachable(client, signal) {
  return new Proxy(client, {
    get(target, key) {
      if (key !== "on") {
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      }
      /** @type {typeof client.on} */
      const on = (type, handler) => {
        const off = target.on(type, handler);
        signal.addEventListener("abort", off);
        return off;
      };
      return on;
    },
  });
}
