// The last line of defence of a long-running service: an exception or rejected promise that no
// code caught is logged, and the process keeps serving instead of exiting. Request-level faults
// are handled where they happen; this is for the ones nobody foresaw.
export function installCrashGuard(log: (line: string) => void = (line) => console.error(line)): void {
  const report = (kind: string) => (error: unknown) => {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`vsw: ${kind} (kept running): ${detail}`);
  };
  process.on('uncaughtException', report('uncaught exception'));
  process.on('unhandledRejection', report('unhandled promise rejection'));
}
