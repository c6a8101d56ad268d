// The application around a page: the live sidebar, the unread count in the title and favicon,
// notifications, the quick switcher and keyboard shortcuts, the phone drawer, confirmations for
// destructive forms, the theme choice and profile cards. Every app page starts it with the page's
// one client (one WebSocket for the conversation and the sidebar).

import { Attention } from "./attention.js";
import { keepPushSubscription } from "../lib/push.js";
import { longDate, shortDateTime } from "./format.js";
import { Sidebar } from "./sidebar.js";
import { Switcher } from "./switcher.js";

/** @template {HTMLElement} T @param {string} id @returns {T | null} */
const byId = (id) => /** @type {T | null} */ (document.getElementById(id));

/** The member is looking at the page. */
export const pageSeen = () => document.visibilityState === "visible" && document.hasFocus();

/**
 * @param {{
 *   client: import("../lib/client.js").NatterClient, onEscape?: () => void,
 *   openRoom?: (room: number) => void,
 * }} options `openRoom` shows a room in place (the room page); without it, rooms are loaded as pages
 */
export function startShell({ client, onEscape, openRoom }) {
  const nav = /** @type {HTMLElement} */ (byId("sidebar"));
  const me = Number(nav.dataset.me);
  /** @param {number} room */
  const go = (room) => (openRoom ? openRoom(room) : location.assign(`/rooms/${room}`));
  const attention = new Attention({
    enableButton: byId("notify-enable"),
    onAllowed: () =>
      void keepPushSubscription("", client.tokens.api).catch((error) =>
        console.warn("push notifications unavailable:", error),
      ),
  });
  const phoneUnread = byId("phone-unread");
  const sidebar = new Sidebar({
    list: /** @type {HTMLUListElement} */ (byId("my-rooms")),
    notice: /** @type {HTMLElement} */ (byId("sidebar-notice")),
    client,
    me,
    current: Number(nav.dataset.current ?? 0),
    isSeen: pageSeen,
    onChange: () => {
      const total = sidebar.totalUnread();
      attention.unread(total);
      if (phoneUnread) {
        // On a phone the open room's own count is on screen already.
        const elsewhere = total - (sidebar.entries.get(sidebar.current)?.unread ?? 0);
        phoneUnread.hidden = elsewhere <= 0;
        phoneUnread.textContent = String(elsewhere);
      }
    },
    onMessage: (entry, message) => {
      if (sidebar.muted.has(entry.id) || !entry.direct) return;
      attention.notify({ title: message.sender_name, body: message.text || "sent a file", room: entry.id });
    },
  });
  // The open room's conversation subscribes itself; on other pages the sidebar follows every room.
  sidebar.joinAll(Boolean(openRoom));
  sidebar.onChange();

  const messagePerson = (/** @type {string} */ username) => {
    const form = /** @type {HTMLFormElement | null} */ (byId("direct-form"));
    if (!form) return;
    /** @type {HTMLInputElement} */ (form.elements.namedItem("username")).value = username;
    form.submit();
  };

  const switcherDialog = /** @type {HTMLDialogElement | null} */ (byId("switcher"));
  const switcher = switcherDialog
    ? new Switcher({
        dialog: switcherDialog,
        input: /** @type {HTMLInputElement} */ (byId("switcher-input")),
        results: /** @type {HTMLUListElement} */ (byId("switcher-results")),
        messagePerson,
        choices: () => {
          const rooms = sidebar.ordered().map((entry) => ({
            label: entry.name,
            detail: entry.direct ? "direct chat" : entry.unread ? `room · ${entry.unread} unread` : "room",
            open: () => {
              switcherDialog?.close();
              go(entry.id);
            },
          }));
          const named = new Set(sidebar.ordered().filter((e) => e.direct).map((e) => e.name));
          const people = [...document.querySelectorAll("#people li[data-username]")]
            .map((li) => /** @type {HTMLElement} */ (li))
            .filter((li) => Number(li.dataset.memberId) !== me && !named.has(li.dataset.name ?? ""))
            .map((li) => ({
              label: li.dataset.name ?? "",
              detail: `@${li.dataset.username} · message`,
              open: () => messagePerson(li.dataset.username ?? ""),
            }));
          return [...rooms, ...people];
        },
      })
    : null;
  byId("switcher-open")?.addEventListener("click", () => switcher?.open());

  /** The room `step` places above or below the open one in the sidebar. @param {number} step */
  const neighbour = (step) => {
    const order = sidebar.ordered();
    const at = order.findIndex((e) => e.id === sidebar.current);
    const next = order[at < 0 ? 0 : at + step];
    if (next) go(next.id);
  };

  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
      event.preventDefault();
      switcher?.open();
    } else if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      event.preventDefault();
      neighbour(event.key === "ArrowUp" ? -1 : 1);
    } else if (event.key === "Escape" && !document.querySelector("dialog[open]")) {
      const target = /** @type {HTMLElement} */ (event.target);
      if (document.body.classList.contains("drawer-open")) setDrawer(false);
      else if (!target.closest?.(".editing")) onEscape?.();
    }
  });

  // ---- phone drawer --------------------------------------------------------------------------------
  const scrim = byId("drawer-scrim");
  /** @param {boolean} open */
  const setDrawer = (open) => {
    document.body.classList.toggle("drawer-open", open);
    byId("drawer-open")?.setAttribute("aria-expanded", String(open));
    if (scrim) scrim.hidden = !open;
    if (open) nav.querySelector("a")?.focus();
  };
  // The drawer button is part of the page's main pane, which a room switch replaces.
  document.addEventListener("click", (event) => {
    if ((/** @type {HTMLElement} */ (event.target)).closest?.("#drawer-open")) setDrawer(!document.body.classList.contains("drawer-open"));
  });
  // Rooms chosen in the sidebar open in place when the page can.
  sidebar.list.addEventListener("click", (event) => {
    const mouse = /** @type {MouseEvent} */ (event);
    const link = /** @type {HTMLElement} */ (event.target).closest?.("a[href^='/rooms/']");
    if (!openRoom || !link || mouse.ctrlKey || mouse.metaKey || mouse.shiftKey || mouse.button !== 0) return;
    event.preventDefault();
    go(Number(link.closest("li")?.dataset.roomId));
  });
  scrim?.addEventListener("click", () => setDrawer(false));

  localTimes();
  confirmForms();
  themeChoice();
  tabs();
  return { sidebar, attention, messagePerson, closeDrawer: () => setDrawer(false) };
}

/** Times the server wrote in UTC (`<time data-ms>`), shown in the reader's zone; the full date on hover. */
function localTimes() {
  for (const time of /** @type {NodeListOf<HTMLTimeElement>} */ (document.querySelectorAll("time[data-ms]"))) {
    const ms = Number(time.dataset.ms);
    time.textContent = shortDateTime(ms);
    time.title = longDate(ms);
  }
}

/** Forms marked `data-confirm` ask first, in a dialog that names what will happen. */
function confirmForms() {
  const dialog = /** @type {HTMLDialogElement | null} */ (byId("confirm-dialog"));
  if (!dialog) return;
  /** @type {{ form: HTMLFormElement, submitter: HTMLElement | null } | null} */
  let pending = null;
  document.addEventListener("submit", (event) => {
    const form = /** @type {HTMLFormElement} */ (event.target);
    if (!form.dataset.confirm || form.dataset.confirmed) return;
    event.preventDefault();
    pending = { form, submitter: /** @type {SubmitEvent} */ (event).submitter };
    /** @type {HTMLElement} */ (byId("confirm-text")).textContent = form.dataset.confirm;
    const yes = /** @type {HTMLElement} */ (byId("confirm-yes"));
    yes.textContent = pending.submitter?.textContent?.trim() || "Confirm";
    // Esc closes a dialog without a value: a stale "confirm" must not count as the answer.
    dialog.returnValue = "";
    dialog.showModal();
  }, true);
  dialog.addEventListener("close", () => {
    const asked = pending;
    pending = null;
    if (!asked || dialog.returnValue !== "confirm") return;
    asked.form.dataset.confirmed = "1";
    asked.form.requestSubmit(/** @type {HTMLButtonElement | null} */ (asked.submitter));
  });
}

/** Settings › Appearance: the theme for this browser. */
function themeChoice() {
  const choice = byId("theme");
  if (!choice) return;
  const saved = localStorage.getItem("natter.theme") ?? "system";
  const radio = /** @type {HTMLInputElement | null} */ (choice.querySelector(`input[value="${saved}"]`));
  if (radio) radio.checked = true;
  choice.addEventListener("change", (event) => {
    const value = /** @type {HTMLInputElement} */ (event.target).value;
    if (value === "system") {
      localStorage.removeItem("natter.theme");
      delete document.documentElement.dataset.theme;
    } else {
      localStorage.setItem("natter.theme", value);
      document.documentElement.dataset.theme = value;
    }
  });
}

/** The manage page's section links: the one in view is marked (every section stays on the page). */
function tabs() {
  const bar = document.querySelector(".tabs");
  if (!bar) return;
  const links = /** @type {HTMLAnchorElement[]} */ ([...bar.querySelectorAll("a[href^='#']")]);
  const mark = () => {
    const wanted = links.find((a) => a.hash === location.hash) ?? links[0];
    for (const link of links) link.setAttribute("aria-current", String(link === wanted));
  };
  window.addEventListener("hashchange", mark);
  mark();
}
