// When to ask the app again: every status text ("expires in 42 min") is
// worded in Rust (the core's one wording of time); the app also says when
// it reads differently next, on its own clock.

/** The app's clock minus this page's, in seconds, measured when `appNow` came. */
export function clockOffset(appNow: number): number {
  return appNow - Date.now() / 1000;
}

/**
 * Runs `then` once the app's clock reaches `at` (epoch seconds; `null`:
 * never); returns what cancels it.
 */
export function atAppTime(at: number | null, offset: number, then: () => void): () => void {
  if (at === null) return () => {};
  // a little late rather than early: the text changes at the second
  const delay = Math.max(0, (at - offset) * 1000 - Date.now()) + 150;
  const timer = window.setTimeout(then, delay);
  return () => window.clearTimeout(timer);
}
