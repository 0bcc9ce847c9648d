// A plain classifier session for batch prediction: the ORIGINAL graph (no explain graph, no model
// analysis), batched, with the provider fallback of providers.ts, returning probabilities.
import * as ort from 'onnxruntime-node';
import { EngineError } from './errors';
import { readModelAsFloat32 } from './onnx/float16Upcast';
import { serializeModel } from './onnx/modelFile';
import { ManagedSession, type ProviderChoice, type ProviderName } from './providers';
import type { InputSize } from './preprocess';

export type Activation = 'softmax' | 'sigmoid';

export function activate(logits: Float32Array, classes: number, activation: Activation): Float32Array {
  const out = new Float32Array(logits.length);
  if (activation === 'sigmoid') {
    for (let i = 0; i < logits.length; i++) out[i] = 1 / (1 + Math.exp(-logits[i]));
    return out;
  }
  for (let start = 0; start < logits.length; start += classes) {
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, logits[start + k]);
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += out[start + k] = Math.exp(logits[start + k] - max);
    for (let k = 0; k < classes; k++) out[start + k] /= sum;
  }
  return out;
}

export class ClassifierSession {
  /** Set once a batched run failed: the export has its batch fixed at 1. */
  private oneAtATime = false;

  private constructor(
    private readonly session: ManagedSession,
    private readonly input: InputSize,
  ) {}

  static async open(
    modelPath: string,
    input: InputSize,
    options: { provider?: ProviderChoice; threads?: number; log?: (m: string) => void } = {},
  ): Promise<ClassifierSession> {
    // A float16 export runs as its float32 copy: the images come as float32.
    const { model, float16 } = readModelAsFloat32(modelPath);
    const source = float16 ? serializeModel(model) : modelPath;
    return new ClassifierSession(await ManagedSession.open(source, options), input);
  }

  get provider(): ProviderName {
    return this.session.provider;
  }

  get providerMessages(): string[] {
    return this.session.messages;
  }

  /** Raw outputs [batch × classes] of the model's first output for `batch` images. */
  async logits(input: Float32Array, batch: number): Promise<{ values: Float32Array; classes: number }> {
    const { channels, height, width } = this.input;
    const per = channels * height * width;
    if (input.length !== batch * per)
      throw new EngineError(
        `The input has ${input.length} values but ${batch} image(s) of ${channels}×${height}×${width} need ${batch * per}.`,
        'input-size-mismatch',
      );
    const run = async (start: number, count: number): Promise<Float32Array> => {
      const tensor = new ort.Tensor('float32', input.subarray(start * per, (start + count) * per), [
        count,
        channels,
        height,
        width,
      ]);
      const outputs = await this.session.run({ [this.session.inputNames[0]]: tensor });
      const first = Object.values(outputs)[0];
      return first.data as Float32Array;
    };
    if (!this.oneAtATime || batch === 1) {
      try {
        const values = await run(0, batch);
        return { values, classes: values.length / batch };
      } catch (error) {
        if (batch === 1)
          throw new EngineError(
            `The model failed to run: ${(error as Error).message.split('\n')[0]}`,
            'run-failed',
          );
        this.oneAtATime = true; // e.g. an export with the batch dimension fixed at 1
      }
    }
    const parts: Float32Array[] = [];
    for (let i = 0; i < batch; i++) parts.push(await run(i, 1));
    const classes = parts[0].length;
    const values = new Float32Array(classes * batch);
    parts.forEach((p, i) => values.set(p, i * classes));
    return { values, classes };
  }

  async probabilities(
    input: Float32Array,
    batch: number,
    activation: Activation,
  ): Promise<{ probs: Float32Array; classes: number }> {
    const { values, classes } = await this.logits(input, batch);
    return { probs: activate(values, classes, activation), classes };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
