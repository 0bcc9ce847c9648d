// Writes the reviewer makes (tags, review marks) go through one queue: navigation waits for it,
// so a tag toggled by hotkey is saved before the next image shows.
let tail: Promise<unknown> = Promise.resolve();

export function enqueueWrite<T>(write: () => Promise<T>): Promise<T> {
  const next = tail.then(write, write);
  tail = next.catch(() => undefined);
  return next;
}

export function writesSettled(): Promise<unknown> {
  return tail;
}
