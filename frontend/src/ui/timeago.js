/** Relative times for lists of boards and spaces. */

/** "just now", "5 min ago", "3 h ago", "2 days ago", else the date (`time` in ms). */
export function timeAgo(time) {
  const s = Math.max(0, (Date.now() - time) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 7 * 86400) return `${Math.floor(s / 86400)} day${s < 2 * 86400 ? '' : 's'} ago`;
  return `on ${new Date(time).toLocaleDateString()}`;
}
