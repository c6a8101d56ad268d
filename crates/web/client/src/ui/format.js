// Small presentation helpers: times in the reader's zone, sizes, avatars.

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });
const dayName = new Intl.DateTimeFormat(undefined, { weekday: "long", month: "long", day: "numeric", year: "numeric" });

/** @param {number} ms */
export const clock = (ms) => timeOfDay.format(ms);

/** @param {number} ms */
export const longDate = (ms) => fullDate.format(ms);

const dayAndTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "Dec 7, 2026, 4:50 PM" in the reader's zone and words. @param {number} ms */
export const shortDateTime = (ms) => dayAndTime.format(ms);

/** The local calendar day of an instant, as a comparable key. @param {number} ms */
export function dayKey(ms) {
  const d = new Date(ms);
  return d.getFullYear() * 10000 + (d.getMonth() + 1) * 100 + d.getDate();
}

/** "Today", "Yesterday" or the date, for a day separator. @param {number} ms @param {number} [now] */
export function dayLabel(ms, now = Date.now()) {
  const today = dayKey(now);
  const key = dayKey(ms);
  if (key === today) return "Today";
  if (key === dayKey(now - 86400000)) return "Yesterday";
  return dayName.format(ms);
}

/** @param {number} bytes */
export function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Up to two initials of a display name. @param {string} name */
export function initials(name) {
  const words = name.trim().split(/[\s._-]+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[1]] : [name.trim()];
  return letters.map((w) => Array.from(w)[0] ?? "?").join("").toUpperCase().slice(0, 2) || "?";
}

/** A stable colour for a member, dark enough for white initials (WCAG AA). @param {number} id */
export function avatarColour(id) {
  const hue = (id * 137.508) % 360;
  return `hsl(${hue.toFixed(0)} 50% 30%)`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "5 minutes ago", "yesterday": how long ago an instant was, in the reader's words. @param {number} ms @param {number} [now] */
export function ago(ms, now = Date.now()) {
  const seconds = Math.round((ms - now) / 1000);
  if (seconds > -45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes > -60) return relative.format(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (hours > -24) return relative.format(hours, "hour");
  return relative.format(Math.round(hours / 24), "day");
}
