// What the classifier head reads of the last block: the methods explain the class token's row,
// which is what a class-token head classifies from. A model that has a class token but whose head
// averages the tokens (timm's global_pool='avg', some HF heads) classifies from every token, so a
// class-token map explains something else than the decision: the user is told so.
import type { ModelProto } from '../onnx/onnxSchema';
import { normaliseAxis } from './gradient/vjpContext';
import { graphConstants, knownIntegers } from './graphConstants';
import { intsAttr } from './nodeAttributes';
import type { TensorInfoMap } from './shapeProbe';

const TOKEN_AXIS = 1;

/** Whether some ReduceMean/ReduceSum averages a [batch, tokens, …] tensor over the token axis. */
export function headPoolsTokens(
  model: ModelProto,
  info: TensorInfoMap,
  tokens: number,
  prefix: number,
): boolean {
  const constants = graphConstants(model.graph!);
  return (model.graph!.node ?? []).some((n) => {
    if (n.opType !== 'ReduceMean' && n.opType !== 'ReduceSum') return false;
    const dims = info.get(n.input?.[0] ?? '')?.dims;
    if (!dims || dims.length !== 3) return false;
    // All tokens, or the patch tokens after the prefix (timm: x[:, num_prefix_tokens:].mean(1)).
    if (dims[TOKEN_AXIS] !== tokens && dims[TOKEN_AXIS] !== tokens - prefix) return false;
    const axes = n.input?.[1] ? knownIntegers(n.input[1], constants, info) : intsAttr(n, 'axes');
    return !!axes && axes.some((a) => normaliseAxis(a, dims.length) === TOKEN_AXIS);
  });
}

/** The warning for a model with a class token whose head mean-pools, or null. */
export function headReadoutWarning(
  model: ModelProto,
  info: TensorInfoMap,
  tokens: number,
  prefix: number,
): string | null {
  if (prefix < 1 || !headPoolsTokens(model, info, tokens, prefix)) return null;
  return (
    'This model has a class token, but its head averages the tokens (mean pooling): the maps follow ' +
    "the class token's row, which the classifier does not read alone, so they may not show what " +
    'decided the prediction. (The received term, which the engine uses for models without a class token, is not applied to models that have one.)'
  );
}
