// The reactions a member can pick: the server's set (`natter_proto::reactions::EMOJI`, whose test
// checks this list), in the order the picker shows them.

export const REACTION_EMOJI = ["👍", "👎", "❤️", "😂", "😮", "😢", "🎉", "🙏", "🔥", "👀", "✅", "🚀", "👏", "🤔", "💯", "☕"];

/**
 * @typedef {{ emoji: string, count: number, reactors: number[], mine: boolean }} Reaction
 * @typedef {{
 *   room: number, message_id: string, position: number, emoji: string, count: number,
 *   reactors: number[], member_id: number, added: boolean
 * }} ReactionChange
 */

/**
 * A message's reactions after `change` (its order kept; a new emoji goes last, one nobody reacts
 * with any more goes away). Whether the reader is among them only changes with their own change.
 * @param {Reaction[]} reactions
 * @param {ReactionChange} change
 * @param {number} me
 * @returns {Reaction[]}
 */
export function applyReaction(reactions, change, me) {
  const before = reactions.find((r) => r.emoji === change.emoji);
  const mine = change.member_id === me ? change.added : (before?.mine ?? false);
  if (change.count === 0) return reactions.filter((r) => r.emoji !== change.emoji);
  const updated = { emoji: change.emoji, count: change.count, reactors: change.reactors, mine };
  return before ? reactions.map((r) => (r === before ? updated : r)) : [...reactions, updated];
}

/**
 * "Ann, Ben and 3 others": who reacted, as names where known.
 * @param {Reaction} reaction
 * @param {number} me
 * @param {(member: number) => string | undefined} nameOf
 */
export function reactorsText(reaction, me, nameOf) {
  const names = reaction.reactors.map((id) => (id === me ? "You" : (nameOf(id) ?? "someone")));
  const others = reaction.count - names.length;
  if (others > 0) return `${names.join(", ")} and ${others} other${others === 1 ? "" : "s"}`;
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}
