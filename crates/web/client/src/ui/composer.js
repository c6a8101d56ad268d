// The composer: a growing multi-line box (Enter sends, Shift+Enter breaks the line), a draft kept per
// room across reloads, the 4,000-character limit shown as it nears, the reply being written, typing
// reports, and one attachment (picked, pasted or dropped) uploaded with progress and cancel.

import { fileSize } from "./format.js";
import { upload } from "./upload.js";

/**
 * @typedef {import("../lib/client.js").NatterClient} NatterClient
 * @typedef {import("../lib/history.js").Message} Message
 */

export const MAX_CHARS = 4000;
const WARN_AT = 3500;

export class Composer {
  /**
   * @param {{
   *   form: HTMLFormElement, input: HTMLTextAreaElement, counter: HTMLElement, replying: HTMLElement,
   *   attachment: HTMLElement, picker: HTMLInputElement, dropZone: HTMLElement,
   *   client: NatterClient, room: number, onSent: () => void, onEditLast: () => void,
   *   onProblem: (text: string) => void, onWhisper?: (username: string, text: string) => void, mentions?: import("./mention-complete.js").MentionComplete,
   * }} options
   */
  constructor(options) {
    this.o = options;
    this.input = options.input;
    this.draftKey = `natter.draft.${options.room}`;
    /** @type {{ id: string, name: string } | null} */
    this.replyTo = null;
    /** @type {{ cancel: () => void, fileId: string | null } | null} */
    this.pending = null;
    this.input.value = localStorage.getItem(this.draftKey) ?? "";
    this.changed(false);

    this.input.addEventListener("input", () => {
      this.changed(true);
      options.mentions?.update();
    });
    this.input.addEventListener("keydown", (event) => this.key(event));
    this.input.addEventListener("blur", () => {
      if (!this.input.value) options.client.stopTyping(options.room);
    });
    options.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    options.replying.querySelector("button")?.addEventListener("click", () => this.cancelReply());
    options.picker.addEventListener("change", () => {
      const file = options.picker.files?.[0];
      if (file) this.attach(file);
      options.picker.value = "";
    });
    this.input.addEventListener("paste", (event) => {
      const file = event.clipboardData?.files?.[0];
      if (file) {
        event.preventDefault();
        this.attach(file);
      }
    });
    const zone = options.dropZone;
    zone.addEventListener("dragover", (event) => {
      if (event.dataTransfer?.types.includes("Files")) {
        event.preventDefault();
        zone.classList.add("dropping");
      }
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dropping"));
    zone.addEventListener("drop", (event) => {
      zone.classList.remove("dropping");
      const file = event.dataTransfer?.files?.[0];
      if (file) {
        event.preventDefault();
        this.attach(file);
      }
    });
  }

  /** @param {boolean} typed */
  changed(typed) {
    const input = this.input;
    input.style.height = "auto";
    const most = window.innerHeight * 0.4;
    input.style.height = `${Math.min(input.scrollHeight + 2, most)}px`;
    input.classList.toggle("tall", input.scrollHeight > most);
    const length = input.value.length;
    const counter = this.o.counter;
    counter.hidden = length < WARN_AT;
    counter.textContent = length > MAX_CHARS ? `${length - MAX_CHARS} characters too many` : `${MAX_CHARS - length} characters left`;
    counter.classList.toggle("over", length > MAX_CHARS);
    if (input.value) localStorage.setItem(this.draftKey, input.value);
    else localStorage.removeItem(this.draftKey);
    // A whisper being written is nobody else's business: the room is not told.
    if (input.value.startsWith("/w")) this.o.client.stopTyping(this.o.room);
    else if (typed && input.value) this.o.client.typing(this.o.room);
    if (typed && !input.value) this.o.client.stopTyping(this.o.room);
  }

  /** @param {KeyboardEvent} event */
  key(event) {
    if (this.o.mentions?.key(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.send();
    } else if (event.key === "ArrowUp" && this.input.value === "") {
      event.preventDefault();
      this.o.onEditLast();
    } else if (event.key === "Escape" && this.replyTo) {
      this.cancelReply();
    }
  }

  send() {
    const text = this.input.value.trim();
    if (this.pending && !this.pending.fileId) {
      this.o.onProblem("Wait for the upload to finish, or cancel it.");
      return;
    }
    const file = this.pending?.fileId ?? undefined;
    if (!text && !file) return;
    if (/^\/w(\s|$)/.test(text) && this.o.onWhisper) {
      // "/w @name text": a whisper, for that member of the room only.
      const whisper = /^\/w\s+@?([A-Za-z0-9._-]+)\s+([\s\S]+)$/.exec(text);
      if (!whisper || file) {
        this.o.onProblem("Whisper with /w @name and your message (text only).");
        return;
      }
      this.o.onWhisper(whisper[1], whisper[2].trim());
      this.input.value = "";
      this.changed(false);
      this.o.onSent();
      return;
    }
    if (text.length > MAX_CHARS) {
      this.o.onProblem(`A message holds at most ${MAX_CHARS} characters.`);
      return;
    }
    this.o.client.publish(this.o.room, { text, replyTo: this.replyTo?.id, file });
    this.o.client.stopTyping(this.o.room);
    this.input.value = "";
    this.changed(false);
    this.cancelReply();
    this.clearAttachment();
    this.o.onSent();
  }

  /** @param {Message} message */
  reply(message) {
    this.replyTo = { id: message.message_id, name: message.sender_name };
    const r = this.o.replying;
    r.hidden = false;
    /** @type {HTMLElement} */ (r.querySelector(".name")).textContent = message.sender_name;
    /** @type {HTMLElement} */ (r.querySelector(".snippet")).textContent = message.text.slice(0, 80);
    this.input.focus();
  }

  cancelReply() {
    this.replyTo = null;
    this.o.replying.hidden = true;
  }

  /** Uploads `file` now; the next send shares it. @param {File} file */
  async attach(file) {
    this.clearAttachment();
    const box = this.o.attachment;
    box.hidden = false;
    box.replaceChildren();
    const name = document.createElement("span");
    name.className = "attachment-name";
    name.textContent = `${file.name} (${fileSize(file.size)})`;
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.value = 0;
    bar.setAttribute("aria-label", `Uploading ${file.name}`);
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "attachment-cancel";
    cancel.textContent = "Cancel";
    box.append(name, bar, cancel);
    let token;
    try {
      token = await this.o.client.tokens.api.get();
    } catch {
      this.o.onProblem("Cannot upload: not connected.");
      this.clearAttachment();
      return;
    }
    const started = upload(`/api/v1/rooms/${this.o.room}/files`, token, file, (f) => (bar.value = f));
    const pending = { cancel: started.cancel, fileId: /** @type {string | null} */ (null) };
    this.pending = pending;
    cancel.addEventListener("click", () => this.clearAttachment());
    try {
      const uploaded = await started.done;
      if (this.pending !== pending) return;
      pending.fileId = uploaded.file_id;
      bar.value = 1;
      box.classList.add("ready");
      cancel.textContent = "Remove";
      this.input.focus();
    } catch (error) {
      if (this.pending !== pending) return;
      this.clearAttachment();
      const message = /** @type {Error} */ (error).message;
      if (message !== "cancelled") this.o.onProblem(`Upload refused: ${message}`);
    }
  }

  clearAttachment() {
    const pending = this.pending;
    this.pending = null;
    if (pending && !pending.fileId) pending.cancel();
    this.o.attachment.hidden = true;
    this.o.attachment.replaceChildren();
    this.o.attachment.classList.remove("ready");
  }
}
