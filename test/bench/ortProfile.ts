// Reads ONNX Runtime's profile (the Chrome-trace JSON a session writes with enableProfiling) into
// what says where a run's time goes: runs and their mean length, kernels per run and their summed
// time (the rest of a run is ORT's own work between kernels: scheduling, allocation, copies,
// dispatch), and the time per op type and provider. On a GPU provider a kernel's time is the host's
// time to record and dispatch it, which is what a run made of 1,000+ small kernels is short of.
import { readFileSync } from 'node:fs';

interface TraceEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; provider?: string };
}

export interface OpTime {
  op: string;
  provider: string;
  kernels: number;
  ms: number;
}

export interface ProfileSummary {
  runs: number;
  /** Mean wall time of a run. */
  runMs: number;
  kernelsPerRun: number;
  /** Mean summed kernel time per run. */
  kernelMsPerRun: number;
  /** Op types by total kernel time, longest first. */
  ops: OpTime[];
}

export function summariseOrtProfile(events: TraceEvent[]): ProfileSummary {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  const byOp = new Map<string, OpTime>();
  for (const k of kernels) {
    const op = k.args?.op_name ?? '?';
    const provider = (k.args?.provider ?? '?').replace(/ExecutionProvider$/, '');
    const key = `${op} ${provider}`;
    const entry = byOp.get(key) ?? { op, provider, kernels: 0, ms: 0 };
    entry.kernels++;
    entry.ms += k.dur / 1000;
    byOp.set(key, entry);
  }
  const n = Math.max(1, runs.length);
  return {
    runs: runs.length,
    runMs: runs.reduce((a, r) => a + r.dur, 0) / 1000 / n,
    kernelsPerRun: kernels.length / n,
    kernelMsPerRun: kernels.reduce((a, k) => a + k.dur, 0) / 1000 / n,
    ops: [...byOp.values()].sort((a, b) => b.ms - a.ms),
  };
}

/** The summary of a profile file as a few lines of text (the `top` longest op types). */
export function describeOrtProfile(file: string, top = 12): string {
  const s = summariseOrtProfile(JSON.parse(readFileSync(file, 'utf8')) as TraceEvent[]);
  const total = s.ops.reduce((a, o) => a + o.ms, 0) || 1;
  return [
    `${s.runs} runs, ${s.runMs.toFixed(2)} ms each; ${s.kernelsPerRun.toFixed(0)} kernels per run taking ` +
      `${s.kernelMsPerRun.toFixed(2)} ms (${((100 * s.kernelMsPerRun) / (s.runMs || 1)).toFixed(0)} % of the run)`,
    ...s.ops
      .slice(0, top)
      .map(
        (o) =>
          `  ${o.op.padEnd(24)} ${o.provider.padEnd(8)} ${String(o.kernels).padStart(7)} kernels ` +
          `${o.ms.toFixed(1).padStart(9)} ms  ${((100 * o.ms) / total).toFixed(1).padStart(5)} %`,
      ),
  ].join('\n');
}
