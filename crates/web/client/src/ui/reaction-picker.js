// The reaction picker: a small popover of the reaction set beside the message's "Add reaction"
// button. Arrow keys move between emoji, Enter or a click picks one, Esc or a click elsewhere closes
// it (focus goes back to the button).

import { REACTION_EMOJI } from "../lib/reactions.js";
import { el } from "./dom.js";

export class ReactionPicker {
  constructor() {
    this.box = el("div", "reaction-picker");
    this.box.setAttribute("role", "dialog");
    this.box.setAttribute("aria-label", "Pick a reaction");
    this.box.hidden = true;
    /** @type {HTMLElement | null} */
    this.anchor = null;
    /** @type {(emoji: string) => void} */
    this.pick = () => {};
    for (const emoji of REACTION_EMOJI) {
      const button = el("button", "pick", emoji);
      button.type = "button";
      button.dataset.emoji = emoji;
      button.setAttribute("aria-label", `React with ${emoji}`);
      this.box.append(button);
    }
    this.box.addEventListener("click", (event) => {
      const button = /** @type {HTMLElement} */ (event.target).closest("button.pick");
      if (!(button instanceof HTMLElement)) return;
      const pick = this.pick;
      this.close();
      pick(button.dataset.emoji ?? "");
    });
    this.box.addEventListener("keydown", (event) => {
      const buttons = /** @type {HTMLElement[]} */ ([...this.box.querySelectorAll("button.pick")]);
      const at = buttons.indexOf(/** @type {HTMLElement} */ (document.activeElement));
      const step = { ArrowRight: 1, ArrowDown: 8, ArrowLeft: -1, ArrowUp: -8 }[event.key];
      if (step !== undefined) {
        event.preventDefault();
        buttons[(at + step + buttons.length) % buttons.length]?.focus();
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.close();
      }
    });
    document.addEventListener("pointerdown", (event) => {
      const target = /** @type {Node} */ (event.target);
      if (!this.box.hidden && !this.box.contains(target) && !this.anchor?.contains(target)) this.close(false);
    });
    document.body.append(this.box);
  }

  /**
   * Opens beside `anchor`; `pick` gets the chosen emoji.
   * @param {HTMLElement} anchor
   * @param {(emoji: string) => void} pick
   */
  open(anchor, pick) {
    if (!this.box.hidden && this.anchor === anchor) {
      this.close();
      return;
    }
    this.anchor = anchor;
    this.pick = pick;
    this.box.hidden = false;
    const at = anchor.getBoundingClientRect();
    const width = this.box.offsetWidth;
    const height = this.box.offsetHeight;
    const left = Math.max(8, Math.min(at.right - width, window.innerWidth - width - 8));
    const top = at.top - height - 6 >= 8 ? at.top - height - 6 : at.bottom + 6;
    this.box.style.left = `${left}px`;
    this.box.style.top = `${Math.min(top, window.innerHeight - height - 8)}px`;
    /** @type {HTMLElement | null} */ (this.box.querySelector("button.pick"))?.focus();
  }

  /** @param {boolean} [refocus] */
  close(refocus = true) {
    if (this.box.hidden) return;
    this.box.hidden = true;
    if (refocus) this.anchor?.focus();
    this.anchor = null;
  }
}
