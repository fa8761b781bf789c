/**
 * Polls `check` every 20 ms until it returns a value other than undefined, and returns that value.
 * @throws Error "timed out waiting for <what>" after `ms` milliseconds (10 s unless given).
 */
export async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
