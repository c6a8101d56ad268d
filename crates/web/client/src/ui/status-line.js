// What the member should know about the connection and the room, in words: a banner while
// disconnected (counting down to the next attempt, with "retry now"), and who is typing.

/** @typedef {import("../lib/client.js").NatterClient} NatterClient */

/**
 * @param {HTMLElement} banner
 * @param {HTMLElement} status a short state word for scripts and screen readers ("live", "removed"…)
 * @param {NatterClient} client
 * @param {AbortSignal} signal detaches it
 */
export function connectionBanner(banner, status, client, signal) {
  /** @type {ReturnType<typeof setInterval> | null} */
  let ticker = null;
  const text = /** @type {HTMLElement} */ (banner.querySelector(".text"));
  const retry = /** @type {HTMLButtonElement} */ (banner.querySelector("button"));
  retry.addEventListener("click", () => client.retryNow());
  /** @param {import("../lib/events.js").ClientEvents["connection"]} event */
  const show = ({ state, retryAt, reason }) => {
    if (ticker) clearInterval(ticker);
    ticker = null;
    if (status.textContent !== "removed") status.textContent = state === "live" ? "live" : state;
    banner.hidden = state === "live";
    retry.hidden = state !== "waiting";
    if (state === "connecting") text.textContent = "Connecting…";
    else if (state === "closed") text.textContent = reason ? `Disconnected: ${reason}` : "Disconnected.";
    else if (state === "waiting" && retryAt) {
      const tick = () => {
        const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
        text.textContent = `Not connected (${reason ?? "connection lost"}). Retrying in ${seconds} s… Messages you send will go out when it is back.`;
      };
      tick();
      ticker = setInterval(tick, 1000);
    }
  };
  signal.addEventListener("abort", client.on("connection", show));
  signal.addEventListener("abort", () => ticker && clearInterval(ticker));
  // A room opened in place joins a connection that is already up.
  if (client.state === "live") show({ state: "live" });
}

/**
 * "alice is typing…", "alice and bob are typing…", "several people are typing…".
 * @param {HTMLElement} line
 * @param {NatterClient} client
 * @param {number} room
 * @param {AbortSignal} signal detaches it
 */
export function typingLine(line, client, room, signal) {
  /** @type {Map<number, { name: string, until: number }>} */
  const typists = new Map();
  const render = () => {
    const now = Date.now();
    for (const [id, t] of typists) if (t.until < now) typists.delete(id);
    const names = [...typists.values()].map((t) => t.name);
    line.textContent =
      names.length === 0 ? "" :
      names.length === 1 ? `${names[0]} is typing…` :
      names.length === 2 ? `${names[0]} and ${names[1]} are typing…` :
      "Several people are typing…";
  };
  const ticker = setInterval(render, 1000);
  signal.addEventListener("abort", () => clearInterval(ticker));
  const offTyping = client.on("typing", (event) => {
    if (event.room !== room) return;
    if (event.typing) typists.set(event.member_id, { name: event.member_name, until: Date.now() + 6000 });
    else typists.delete(event.member_id);
    render();
  });
  const offMessage = client.on("message", ({ room: r, message }) => {
    if (r === room && typists.delete(message.sender_id)) render();
  });
  signal.addEventListener("abort", () => {
    offTyping();
    offMessage();
  });
}
