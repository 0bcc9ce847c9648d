// Explains a batch of preprocessed images in one ONNX Runtime run per method, with the fused
// saliency graphs (only logits and maps leave ORT), and returns each image's report as
// `vsw explain` writes it. The maps are the fused graphs' (equal to the per-image path's within
// 1e-4: test/unit/engine-core/fixtures.test.ts); --dump-blocks needs the per-image path.
import { EngineError } from './errors';
import {
  buildReport,
  checkLabels,
  checkTargetIndex,
  resolveTarget,
  type ExplainReport,
  type ExplainRequest,
} from './explainReport';
import type { ExplainSession } from './explainSession';
import { resolveMethodOptions, type MethodName } from './methods';

export interface ExplainedImage {
  report: ExplainReport;
  maps: Map<MethodName, Float32Array>;
}

export async function explainBatch(
  session: ExplainSession,
  input: Float32Array,
  count: number,
  request: ExplainRequest,
): Promise<ExplainedImage[]> {
  const { numClasses, numBlocks } = session.info;
  checkLabels(request, numClasses);
  let targets: number[] | 'top1';
  if (request.target === 'top1') targets = 'top1';
  else if (typeof request.target === 'number')
    targets = new Array<number>(count).fill(checkTargetIndex(request.target, numClasses));
  else {
    const logits = await session.predict(input, count);
    targets = Array.from({ length: count }, (_, i) =>
      resolveTarget(request.target, logits.subarray(i * numClasses, (i + 1) * numClasses)),
    );
  }
  const options = resolveMethodOptions(request.options, numBlocks);
  const maps = new Map<MethodName, Float32Array[]>();
  let logits: Float32Array | undefined;
  let resolved: number[] = [];
  // A method the architecture does not define (the rollouts on windowed models) is named in the
  // report when others were asked for too.
  const notDefined: Partial<Record<MethodName, string>> = {};
  for (const method of request.methods) {
    try {
      const r = await session.saliency(input, count, targets, method, request.options);
      logits ??= r.logits;
      resolved = r.targets;
      maps.set(method, r.maps);
    } catch (e) {
      if (!(e instanceof EngineError) || e.code !== 'method-not-defined' || request.methods.length === 1)
        throw e;
      notDefined[method] = e.message;
    }
  }
  return Array.from({ length: count }, (_, i) => {
    const own = new Map([...maps].map(([m, perImage]) => [m, perImage[i]] as const));
    const row = logits!.subarray(i * numClasses, (i + 1) * numClasses);
    const report = buildReport(
      session,
      request,
      row,
      resolved[i],
      options,
      own,
      notDefined,
      session.precision,
    );
    return { report, maps: own };
  });
}
