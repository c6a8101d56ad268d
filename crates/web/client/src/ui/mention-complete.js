// Autocompleting @names in the composer: "@" and the first letters of someone list the room's people
// (and @room) whose username or name starts with them; ↑/↓ choose, Enter or Tab puts "@username "
// in, Esc closes. Who was mentioned is still decided by the server when the message is sent.

import { el } from "./dom.js";

/** @typedef {{ username: string, name: string }} Person */

/** The "@partial" just before the caret, if the caret ends one. @param {string} before */
export function partialMention(before) {
  const found = /(^|[^A-Za-z0-9._-])@([A-Za-z0-9._-]{0,32})$/.exec(before);
  return found ? found[2] : null;
}

/**
 * People whose username or name starts with `partial` (any case), then @room; at most `limit`.
 * @param {Person[]} people @param {string} partial @param {number} [limit]
 * @returns {Person[]}
 */
export function mentionChoices(people, partial, limit = 6) {
  const p = partial.toLowerCase();
  const starts = (/** @type {string} */ s) => s.toLowerCase().startsWith(p) || s.toLowerCase().split(/\s+/).some((w) => w.startsWith(p));
  const found = people.filter((person) => starts(person.username) || starts(person.name));
  if ("room".startsWith(p)) found.push({ username: "room", name: "everyone in this room" });
  return found.slice(0, limit);
}

export class MentionComplete {
  /**
   * @param {{ input: HTMLTextAreaElement, people: () => Person[] }} options
   */
  constructor({ input, people }) {
    this.input = input;
    this.people = people;
    this.list = el("ul", "mention-list");
    this.list.id = "mention-list";
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "People to mention");
    this.list.hidden = true;
    input.before(this.list);
    input.setAttribute("aria-autocomplete", "list");
    /** @type {Person[]} */
    this.shown = [];
    this.selected = 0;
    this.list.addEventListener("mousedown", (event) => {
      const item = /** @type {HTMLElement} */ (event.target).closest("li");
      if (!item) return;
      event.preventDefault();
      this.choose(this.shown[Number(item.dataset.index)]);
    });
    input.addEventListener("blur", () => this.close());
  }

  /** Shows the choices for what is typed before the caret (or hides them). */
  update() {
    const caret = this.input.selectionStart ?? this.input.value.length;
    const partial = partialMention(this.input.value.slice(0, caret));
    this.shown = partial === null ? [] : mentionChoices(this.people(), partial);
    if (this.shown.length === 0) {
      this.close();
      return;
    }
    this.list.replaceChildren(
      ...this.shown.map((person, index) => {
        const item = el("li");
        item.id = `mention-${index}`;
        item.dataset.index = String(index);
        item.setAttribute("role", "option");
        item.append(el("span", "mention-name", `@${person.username}`), el("span", "meta", person.name));
        return item;
      }),
    );
    this.list.hidden = false;
    this.input.setAttribute("aria-controls", this.list.id);
    this.input.setAttribute("aria-expanded", "true");
    this.select(Math.min(this.selected, this.shown.length - 1));
  }

  /** Handles a key while the list is open; whether it did. @param {KeyboardEvent} event */
  key(event) {
    if (this.list.hidden) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.select((this.selected + step + this.shown.length) % this.shown.length);
    } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      this.choose(this.shown[this.selected]);
    } else if (event.key === "Escape") {
      this.close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  /** @param {number} index */
  select(index) {
    this.selected = Math.max(0, index);
    this.list.querySelectorAll("li").forEach((li, i) => li.setAttribute("aria-selected", String(i === this.selected)));
    this.input.setAttribute("aria-activedescendant", `mention-${this.selected}`);
  }

  /** Puts "@username " in place of the partial name. @param {Person | undefined} person */
  choose(person) {
    if (!person) return;
    const caret = this.input.selectionStart ?? this.input.value.length;
    const before = this.input.value.slice(0, caret);
    const partial = partialMention(before) ?? "";
    const start = caret - partial.length;
    const inserted = `${person.username} `;
    this.input.value = this.input.value.slice(0, start) + inserted + this.input.value.slice(caret);
    const at = start + inserted.length;
    this.input.setSelectionRange(at, at);
    this.input.dispatchEvent(new Event("input"));
    this.close();
  }

  close() {
    if (this.list.hidden) return;
    this.list.hidden = true;
    this.selected = 0;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }
}
