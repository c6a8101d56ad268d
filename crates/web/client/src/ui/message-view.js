// One message as a list row: day separator and "new messages" divider when due, avatar and name at the
// start of a group, local time (full date on hover), the reply quote, Markdown text, the file, an
// "edited" mark, and the actions the member may take on it. Text only ever enters through
// `renderMarkdown` (sanitised) or `textContent`.

import { el } from "./dom.js";
import { avatarColour, clock, dayKey, dayLabel, fileSize, initials, longDate } from "./format.js";
import { renderMarkdown } from "./markdown.js";
import { reactorsText } from "../lib/reactions.js";

/** @typedef {import("../lib/history.js").Message} Message */

/** Messages of one sender closer together than this share a header. */
const GROUP_WITHIN_MS = 5 * 60 * 1000;


/**
 * Whether `message` continues the group of `previous` (same sender, same day, a few minutes apart).
 * @param {Message | null} previous
 * @param {Message} message
 */
export function continues(previous, message) {
  return (
    previous !== null &&
    previous.sender_id === message.sender_id &&
    dayKey(previous.sent_at_ms) === dayKey(message.sent_at_ms) &&
    message.sent_at_ms - previous.sent_at_ms < GROUP_WITHIN_MS
  );
}

/**
 * @param {number} ms
 * @param {string} className
 */
function timeElement(ms, className) {
  const time = el("time", className, clock(ms));
  time.dateTime = new Date(ms).toISOString();
  time.title = longDate(ms);
  return time;
}

/**
 * A member's picture, or their initials on their colour when they have none.
 * @param {string} name
 * @param {number} id
 * @param {string} [picture] the URL of their uploaded avatar
 */
export function avatar(name, id, picture) {
  const box = el("span", "avatar", picture ? undefined : initials(name));
  box.style.background = avatarColour(id);
  box.setAttribute("aria-hidden", "true");
  if (picture) {
    const image = el("img");
    image.src = picture;
    image.alt = "";
    box.append(image);
  }
  return box;
}

/**
 * @typedef {{
 *   me: number, canModerate: boolean, canPost: boolean, canReact: boolean, divider: boolean,
 *   previous: Message | null, quote: (position: number) => string | null,
 *   avatarOf: (member: number) => string | undefined, nameOf: (member: number) => string | undefined,
 * }} RowContext
 */

/**
 * @param {Message} message
 * @param {RowContext} ctx
 * @returns {HTMLLIElement}
 */
export function messageRow(message, ctx) {
  const row = el("li", "row");
  row.id = `m${message.position}`;
  row.dataset.position = String(message.position);
  row.dataset.messageId = message.message_id;
  row.dataset.sender = String(message.sender_id);
  const mine = message.sender_id === ctx.me;
  row.classList.toggle("mine", mine);
  // Decided by the server when the message was sent (never guessed from the text here).
  row.classList.toggle("mentions-me", !mine && (message.mentions_room === true || (message.mentions ?? []).includes(ctx.me)));
  if (!ctx.previous || dayKey(ctx.previous.sent_at_ms) !== dayKey(message.sent_at_ms)) {
    const separator = el("div", "day-sep");
    separator.setAttribute("role", "separator");
    separator.append(el("span", "", dayLabel(message.sent_at_ms)));
    row.append(separator);
  }
  if (ctx.divider) {
    const divider = el("div", "divider");
    divider.setAttribute("role", "separator");
    divider.append(el("span", "", "New messages"));
    row.append(divider);
  }
  const continued = continues(ctx.previous, message) && !ctx.divider;
  row.classList.toggle("continued", continued);

  const box = el("article", "msg");
  box.setAttribute("aria-label", `${message.sender_name} at ${clock(message.sent_at_ms)}`);
  if (continued) box.append(timeElement(message.sent_at_ms, "gutter-time"));
  else box.append(avatar(message.sender_name, message.sender_id, ctx.avatarOf(message.sender_id)));
  const body = el("div", "body");
  if (!continued) {
    const head = el("div", "head");
    head.append(el("span", "sender", message.sender_name), " ", timeElement(message.sent_at_ms, "time"));
    body.append(head);
  }
  if (message.reply_to && !message.deleted) body.append(replyQuote(message.reply_to, ctx.quote(message.reply_to.position)));
  body.append(el("div", "text"));
  body.append(el("div", "problem"));
  box.append(body);
  box.append(actions(message, ctx, mine));
  row.append(box);
  fill(row, message);
  showReactions(row, message, ctx.me, ctx.nameOf);
  return row;
}

/**
 * A whisper's row: who whispered to whom, the text (plain, escaped by `textContent`), the time; set
 * apart so it is never mistaken for something the room saw.
 * @param {import("../lib/history.js").Whisper} whisper
 * @param {{ me: number, avatarOf: (member: number) => string | undefined }} ctx
 * @returns {HTMLElement}
 */
export function whisperRow(whisper, ctx) {
  const row = el("li", "row whisper");
  row.dataset.whisperId = whisper.message_id;
  row.dataset.after = String(whisper.after);
  const mine = whisper.sender_id === ctx.me;
  row.classList.toggle("mine", mine);
  const box = el("article", "msg");
  const label = mine ? `Whisper to ${whisper.to_name}` : `${whisper.sender_name} whispers to you`;
  box.setAttribute("aria-label", `${label} at ${clock(whisper.sent_at_ms)}`);
  box.append(avatar(whisper.sender_name, whisper.sender_id, ctx.avatarOf(whisper.sender_id)));
  const body = el("div", "body");
  const head = el("div", "head");
  head.append(el("span", "whisper-label", `🔒 ${label}`), " ", timeElement(whisper.sent_at_ms, "time"));
  const text = el("div", "text");
  text.textContent = whisper.text;
  body.append(head, text);
  box.append(body);
  if (!mine) {
    const bar = el("div", "actions");
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "Whisper actions");
    const report = el("button", "action-report", "⚑");
    report.type = "button";
    report.title = "Report to the room's moderators";
    report.setAttribute("aria-label", report.title);
    bar.append(report);
    box.append(bar);
  }
  row.append(box);
  return row;
}

/**
 * The message's reaction chips under its text: emoji and count, pressed when the reader is among
 * them; who reacted on hover (and for screen readers).
 * @param {HTMLElement} row
 * @param {Message} message
 * @param {number} me
 * @param {(member: number) => string | undefined} nameOf
 */
export function showReactions(row, message, me, nameOf) {
  row.querySelector(".reactions")?.remove();
  const reactions = message.deleted ? [] : (message.reactions ?? []);
  if (reactions.length === 0) return;
  const bar = el("div", "reactions");
  for (const reaction of reactions) {
    const chip = el("button", "reaction");
    chip.type = "button";
    chip.dataset.emoji = reaction.emoji;
    chip.setAttribute("aria-pressed", String(reaction.mine));
    const who = reactorsText(reaction, me, nameOf);
    chip.title = `${who} reacted with ${reaction.emoji}`;
    chip.setAttribute("aria-label", `${reaction.emoji} ${reaction.count}: ${who}`);
    chip.append(el("span", "emoji", reaction.emoji), el("span", "count", String(reaction.count)));
    bar.append(chip);
  }
  row.querySelector(".body")?.append(bar);
}

/**
 * @param {import("../lib/history.js").ReplyRef} to
 * @param {string | null} snippet
 */
function replyQuote(to, snippet) {
  const quote = el("button", "quote");
  quote.type = "button";
  quote.dataset.position = String(to.position);
  quote.title = "Show the message this answers";
  quote.append(el("span", "quote-name", to.sender_name), " ", el("span", "snippet", snippet ?? "…"));
  return quote;
}

/**
 * Shows the message's current text, file, and edited or deleted state in its row.
 * @param {HTMLElement} row
 * @param {Message} message
 */
export function fill(row, message) {
  const text = /** @type {HTMLElement} */ (row.querySelector(".text"));
  text.replaceChildren();
  row.classList.toggle("deleted", message.deleted === true);
  row.querySelector(".file")?.remove();
  if (message.deleted) {
    text.append(el("em", "", "message deleted"));
    row.querySelector(".quote")?.remove();
    row.querySelectorAll(".action-edit, .action-delete, .action-reply, .action-react, .reactions").forEach((b) => b.remove());
    return;
  }
  if (message.text) text.append(renderMarkdown(message.text));
  if (message.edited_at_ms !== undefined) {
    const mark = el("span", "edited", "(edited)");
    mark.title = `edited ${longDate(message.edited_at_ms)}`;
    text.append(mark);
  }
  if (message.file) text.after(attachment(message.file));
}

/** @param {import("../lib/history.js").FileRef} file */
export function attachment(file) {
  const url = `/files/${encodeURIComponent(file.file_id)}`;
  if (file.thumbnail) {
    const link = el("a", "file image");
    link.href = url;
    link.dataset.full = url;
    const image = el("img");
    image.src = `${url}/thumbnail`;
    image.width = file.thumbnail.width;
    image.height = file.thumbnail.height;
    image.alt = file.name;
    image.loading = "lazy";
    link.append(image);
    return link;
  }
  const card = el("a", "file card");
  card.href = url;
  card.download = file.name;
  card.append(el("span", "file-icon", fileKind(file)), el("span", "file-name", file.name), el("span", "file-meta", `${fileSize(file.size)} · ${file.content_type}`));
  return card;
}

/** @param {import("../lib/history.js").FileRef} file */
function fileKind(file) {
  const sub = file.content_type.split("/")[1] ?? "file";
  return (sub === "pdf" ? "PDF" : sub.split(/[.+-]/)[0].slice(0, 4)).toUpperCase();
}

/**
 * @param {Message} message
 * @param {RowContext} ctx
 * @param {boolean} mine
 */
function actions(message, ctx, mine) {
  const bar = el("div", "actions");
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", "Message actions");
  /** @param {string} name @param {string} label @param {string} icon */
  const button = (name, label, icon) => {
    const b = el("button", `action-${name}`, icon);
    b.type = "button";
    b.title = label;
    b.setAttribute("aria-label", label);
    bar.append(b);
  };
  if (ctx.canReact && !message.deleted) button("react", "Add reaction", "☺");
  if (ctx.canPost) button("reply", "Reply", "↩");
  if (mine && ctx.canPost) button("edit", "Edit", "✎");
  if (mine || ctx.canModerate) button("delete", "Delete", "🗑");
  button("link", "Copy link", "🔗");
  if (!mine && !message.deleted) button("report", "Report to the room's moderators", "⚑");
  return bar;
}

export { el };
