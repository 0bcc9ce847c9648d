// The engine's error type: every bad-input failure says what is wrong and what to do, with a
// stable machine-readable code.
export class EngineError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}
