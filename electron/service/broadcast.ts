// Fans service events out to every connected client (several windows or browser tabs).
import type { ServiceEvent } from '../contract/protocol';

export class Broadcast {
  private readonly sinks = new Set<(event: ServiceEvent) => void>();

  add(sink: (event: ServiceEvent) => void): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  readonly emit = (event: ServiceEvent): void => {
    for (const sink of this.sinks) {
      try {
        sink(event);
      } catch {
        // one client's broken channel must not keep the event from the others
      }
    }
  };
}
