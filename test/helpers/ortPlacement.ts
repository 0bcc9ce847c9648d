// Where ONNX Runtime places each node of a graph on a given provider, read from its own verbose
// session log ("Node placements"). The session opens in a child process, because ORT writes its
// log from native code straight to the process's stderr.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { activationTensors } from '../../electron/engine/graph/graphConstants';
import { readModelFile } from '../../electron/engine/onnx/modelFile';
import type { GraphProto } from '../../electron/engine/onnx/onnxSchema';

export interface Placement {
  /** Provider name (e.g. WebGpuExecutionProvider) → "OpType (node name)" entries. */
  byProvider: Map<string, string[]>;
  /** Node counts per provider, including "All nodes placed on" lines that list no nodes. */
  counts: Map<string, number>;
}

export type PlacementResult =
  | {
      ok: true;
      placement: Placement;
      log: string;
      /**
       * The graph as ORT ran it (its optimizers' output, saved by the same session): nodes that
       * ORT adds, such as the transpose optimizer's `Gather_token_*` on Shape outputs, are in it.
       */
      optimized: GraphProto;
    }
  | { ok: false; error: string; log: string };

const HEADER = /(?:Node\(s\)|All nodes) placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const ENTRY = /VerifyEachNodeIsAssignedToAnEp\]\s{3}(.*)$/;

export function parsePlacement(log: string): Placement {
  const byProvider = new Map<string, string[]>();
  const counts = new Map<string, number>();
  let current: string | undefined;
  for (const raw of log.split('\n')) {
    // eslint-disable-next-line no-control-regex
    const line = raw.replace(/\u001b\[[0-9;]*m/g, '');
    const header = HEADER.exec(line);
    if (header) {
      current = header[1];
      counts.set(current, Number(header[2]));
      byProvider.set(current, []);
      continue;
    }
    const entry = current ? ENTRY.exec(line) : null;
    if (entry && current) byProvider.get(current)!.push(entry[1].trim());
    else if (!/VerifyEachNodeIsAssignedToAnEp/.test(line)) current = undefined;
  }
  return { byProvider, counts };
}

/** Opens `model` (file bytes) on `provider` in a child with ORT's verbose log and parses it. */
export function placementOf(model: Uint8Array, provider: string): PlacementResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-placement-'));
  try {
    const file = path.join(dir, 'model.onnx');
    const optimizedFile = path.join(dir, 'optimized.onnx');
    fs.writeFileSync(file, model);
    const script = `
      const ort = require(${JSON.stringify(require.resolve('onnxruntime-node'))});
      ort.InferenceSession.create(${JSON.stringify(file)}, {
        executionProviders: [${JSON.stringify(provider)}],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 0,
        logVerbosityLevel: 0,
        optimizedModelFilePath: ${JSON.stringify(optimizedFile)},
      }).then((s) => s.release()).then(
        () => process.exit(0),
        (e) => { process.stdout.write('VSW_SESSION_ERROR ' + String(e && e.message).split('\\n')[0]); process.exit(3); },
      );`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const log = `${r.stdout}\n${r.stderr}`;
    // ORT's message starts with its source location; the reason is its last sentence.
    const failed = /VSW_SESSION_ERROR (.*)/.exec(r.stdout)?.[1]?.split('was false. ').pop();
    if (r.status !== 0) return { ok: false, error: failed ?? `exit ${r.status} ${r.signal ?? ''}`, log };
    const optimized = readModelFile(optimizedFile).model.graph!;
    return { ok: true, placement: parsePlacement(log), log, optimized };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * CPU-placed nodes that read activations, looked up by name in `graph`: pass the graph ORT ran
 * (`PlacementResult.optimized`), since ORT's optimizers add and rename nodes. A node not found
 * there is reported as such.
 */
export function activationNodesOnCpu(placement: Placement, graph: GraphProto): string[] {
  const live = activationTensors(graph);
  const byName = new Map((graph.node ?? []).map((n) => [n.name ?? '', n]));
  const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const out: string[] = [];
  for (const entry of placement.byProvider.get('CPUExecutionProvider') ?? []) {
    const m = /^(\S+) \((.*)\)$/.exec(entry);
    const node = m ? byName.get(m[2]) : undefined;
    if (!node) {
      out.push(`${entry} (not in the built graph)`);
      continue;
    }
    // Shape and Size read only metadata: their place does not move activations. An Identity that
    // only renames a tensor into a graph output is the hand-off to the caller: the output is
    // copied to the host either way.
    if (node.opType === 'Shape' || node.opType === 'Size') continue;
    if (node.opType === 'Identity' && (node.output ?? []).every((o) => outputs.has(o))) continue;
    if ((node.input ?? []).some((t) => t && live.has(t))) out.push(entry);
  }
  return out;
}
