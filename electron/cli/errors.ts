// Errors the command line maps to exit codes: a UsageError exits 2, anything else 1.
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(m: string) {
    super(m);
    this.name = 'UsageError';
  }
}
