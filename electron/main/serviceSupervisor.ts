// What the Electron main process does when the service process exits: restart it once and tell
// the reviewer; if it exits again within a minute, give up and show an error screen that names
// the log. Plain functions and data, so that they can be tested without Electron.
import path from 'node:path';

export const RESTART_WINDOW_MS = 60_000;

export type ExitDecision = 'restart' | 'give-up';

/** Restart after an exit, unless the last restart was less than `windowMs` ago. */
export function createRestartPolicy(windowMs = RESTART_WINDOW_MS) {
  let lastRestart: number | null = null;
  return {
    onExit(now: number): ExitDecision {
      if (lastRestart !== null && now - lastRestart < windowMs) return 'give-up';
      lastRestart = now;
      return 'restart';
    },
  };
}

/** Where main writes the service process's output. */
export function serviceLogPath(dataDir: string): string {
  return path.join(dataDir, 'logs', 'service.log');
}

export function describeExit(code: number): string {
  return code === 0 ? 'stopped' : `stopped with exit code ${code}`;
}

export function restartMessage(code: number, logPath: string): string {
  return (
    `The workstation service ${describeExit(code)} and was restarted. Work in progress may need ` +
    `redoing; jobs resume by themselves. Details are in ${logPath}.`
  );
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The page shown in place of the app when the service keeps exiting. */
export function errorScreenHtml(code: number, logPath: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>ViT Saliency Workstation: the service stopped</title>
<style>body{font:15px/1.5 system-ui,sans-serif;background:#15171c;color:#e6e8ec;margin:48px}
code{background:#2c313b;padding:2px 6px;border-radius:4px}h1{color:#ff7a7a;font-size:20px}</style></head>
<body><h1>The workstation service stopped twice within a minute</h1>
<p>It ${escapeHtml(describeExit(code))} again right after a restart, so it was not restarted a second time.</p>
<p>The service's log is <code>${escapeHtml(logPath)}</code>. Look at its last lines for the reason,
then close this window and start the app again. Your datasets and tags are kept in the database.</p>
</body></html>`;
}
