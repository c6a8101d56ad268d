// The people panel beside a conversation: kept in step with the room's members (joins, leaves, kicks,
// bans, roles) by re-reading the member list when the server says it changed (`members_changed`).
// Presence and read receipts of listed people are updated by the room page.

import { el } from "./dom.js";

/** @typedef {import("../lib/history.js").RoomMember} RoomMember */

/** A person's list item, as the server renders it. @param {RoomMember} member @param {number} me */
export function personItem(member, me) {
  const li = el("li");
  li.dataset.memberId = String(member.member_id);
  li.dataset.username = member.username;
  li.dataset.name = member.display_name;
  li.dataset.role = member.role;
  li.dataset.state = "unknown";
  const dot = el("span", "dot unknown");
  dot.setAttribute("aria-hidden", "true");
  const name = el("button", "person link", member.display_name);
  name.type = "button";
  const handle = el("span", "meta", `@${member.username}${member.member_id === me ? " (you)" : ""}`);
  li.append(dot, " ", name, " ", handle, el("span", "role"), " ", el("span", "presence meta"), " ", el("span", "read meta"));
  return li;
}

/** Shows the member's role when it is not plain "member". @param {HTMLElement} li @param {string} role */
function showRole(li, role) {
  li.dataset.role = role;
  let label = li.querySelector(".role");
  if (!label) {
    label = el("span", "role");
    li.querySelector(".meta")?.after(" ", label);
  }
  label.textContent = role === "member" ? "" : role;
  label.toggleAttribute("hidden", role === "member");
}

/**
 * Re-reads the room's members whenever they change and updates the list (debounced).
 * @param {{
 *   list: HTMLElement, client: import("../lib/client.js").NatterClient, room: number, me: number,
 *   signal: AbortSignal,
 * }} options
 */
export function livePeople({ list, client, room, me, signal }) {
  list.querySelectorAll("li[data-member-id]").forEach((li) => showRole(/** @type {HTMLElement} */ (li), /** @type {HTMLElement} */ (li).dataset.role ?? "member"));
  let timer = 0;
  const refresh = async () => {
    let members;
    try {
      members = await client.members(room);
    } catch (error) {
      console.warn("natter: could not re-read the members", error);
      return;
    }
    const present = new Set(members.map((m) => m.member_id));
    for (const li of list.querySelectorAll("li[data-member-id]")) {
      if (!present.has(Number(/** @type {HTMLElement} */ (li).dataset.memberId))) li.remove();
    }
    for (const member of members) {
      let li = /** @type {HTMLElement | null} */ (list.querySelector(`li[data-member-id="${member.member_id}"]`));
      if (!li) {
        li = personItem(member, me);
        list.append(li);
      }
      showRole(li, member.role);
    }
  };
  const off = client.on("members_changed", (frame) => {
    if (frame.room !== room) return;
    clearTimeout(timer);
    timer = window.setTimeout(() => void refresh(), 300);
  });
  signal.addEventListener("abort", () => {
    off();
    clearTimeout(timer);
  });
}
