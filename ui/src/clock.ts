// The live countdown, computed here from an absolute expiry: the app sends
// `expiresAt` once (and again only when the accounts change).

/** Seconds since the epoch on the app's clock, given the offset measured when the data came. */
export function appNow(offset: number): number {
  return Math.floor(Date.now() / 1000) + offset;
}

/** "41 min 05 s", "1 h 05 min", "12 s", "365 days"; never more than is left. */
export function countdown(left: number): string {
  if (left <= 0) return "expired";
  if (left >= 2 * 86400) return `${Math.floor(left / 86400)} days`;
  const hours = Math.floor(left / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  const seconds = left % 60;
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, "0")} min`;
  if (minutes > 0) return `${minutes} min ${String(seconds).padStart(2, "0")} s`;
  return `${seconds} s`;
}

/** The text of an account's expiry at `now`. */
export function expiryText(expiresAt: number, now: number): string {
  const left = expiresAt - now;
  return left > 0 ? `expires in ${countdown(left)}` : "token expired, renewed on use";
}
