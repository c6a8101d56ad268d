// Getting the member's attention when they are elsewhere: the unread count in the tab title
// ("(3) Natter") and on the favicon, and browser notifications for direct messages while the tab is
// hidden. Notifications are asked for only when the member presses the sidebar's button, never on load;
// once allowed, `onAllowed` keeps the browser's Web Push subscription (notifications while Natter is
// closed), on every page load too.

const BASE_ICON = "/static/favicon.svg";

export class Attention {
  /** @param {{ enableButton: HTMLButtonElement | null, onAllowed?: () => void }} options */
  constructor({ enableButton, onAllowed }) {
    this.baseTitle = document.title.replace(/^\(\d+\+?\) /, "");
    this.icon = /** @type {HTMLLinkElement | null} */ (document.querySelector("link[rel=icon]"));
    this.shownCount = -1;
    this.enableButton = enableButton;
    if (enableButton && "Notification" in window && Notification.permission === "default") {
      enableButton.hidden = false;
      enableButton.addEventListener("click", async () => {
        const answer = await Notification.requestPermission();
        enableButton.hidden = true;
        if (answer === "granted") {
          new Notification("Natter", { body: "Notifications are on: mentions and direct messages reach you while you are away." });
          onAllowed?.();
        }
      });
    } else if ("Notification" in window && Notification.permission === "granted") {
      onAllowed?.();
    }
  }

  /** The page now shows another room: its title. @param {string} title */
  retitle(title) {
    this.baseTitle = title.replace(/^\(\d+\+?\) /, "");
    const count = this.shownCount;
    this.shownCount = -1;
    this.unread(Math.max(0, count));
  }

  /** Shows `count` unread messages in the title and on the favicon. @param {number} count */
  unread(count) {
    if (count === this.shownCount) return;
    this.shownCount = count;
    const label = count > 99 ? "99+" : String(count);
    document.title = count > 0 ? `(${label}) ${this.baseTitle}` : this.baseTitle;
    if (!this.icon) return;
    this.icon.href = count > 0 ? badgeIcon(label) : BASE_ICON;
    this.icon.type = count > 0 ? "image/png" : "image/svg+xml";
  }

  /**
   * A notification, when the member allowed them and is not looking at the page.
   * @param {{ title: string, body: string, room: number }} what
   */
  notify({ title, body, room }) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    if (document.visibilityState === "visible" && document.hasFocus()) return;
    const note = new Notification(title, { body: body.slice(0, 140), tag: `natter-room-${room}` });
    note.onclick = () => {
      window.focus();
      if (!location.pathname.startsWith(`/rooms/${room}`)) location.assign(`/rooms/${room}`);
      note.close();
    };
  }
}

/** The favicon with a red count badge, drawn on a canvas. @param {string} label */
function badgeIcon(label) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 32;
  const ctx = canvas.getContext("2d");
  if (!ctx) return BASE_ICON;
  ctx.fillStyle = "#4f46e5";
  ctx.beginPath();
  ctx.roundRect(0, 0, 32, 32, 7);
  ctx.fill();
  ctx.fillStyle = "#ffffff";
  ctx.beginPath();
  ctx.roundRect(5, 8, 22, 14, 3);
  ctx.fill();
  ctx.fillStyle = "#d93025";
  ctx.beginPath();
  ctx.arc(23, 9, 9, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = "#ffffff";
  ctx.font = `bold ${label.length > 1 ? 10 : 13}px sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText(label.length > 2 ? "99" : label, 23, 10);
  return canvas.toDataURL("image/png");
}
