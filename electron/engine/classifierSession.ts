// A plain classifier session for batch prediction: the ORIGINAL graph (no explain graph, no model
// analysis), batched, with the provider fallback of providers.ts, returning probabilities.
import * as ort from 'onnxruntime-node';
import { EngineError } from './errors';
import { findEmbeddingHead } from './graph/embeddingHead';
import { valueInfo } from './graph/graphEditor';
import { DataType } from './onnx/onnxSchema';
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

export interface ClassifierOutputs {
  /** [batch × classes] raw outputs of the model's first output. */
  values: Float32Array;
  classes: number;
  /** [batch × dim] embeddings (the head's input) when the session fetches them. */
  embeddings?: Float32Array;
  dim?: number;
}

export interface ClassifierOptions {
  provider?: ProviderChoice;
  threads?: number;
  log?: (m: string) => void;
  /** Also fetch the embedding, from the same run: the card's tensor name, or '' to find the head's input. */
  embedding?: string;
}

export class ClassifierSession {
  /** Set once a batched run failed: the export has its batch fixed at 1. */
  private oneAtATime = false;

  private constructor(
    private readonly session: ManagedSession,
    private readonly input: InputSize,
    private readonly logitsName: string,
    /** The embedding tensor fetched with the logits, or null. */
    readonly embeddingTensor: string | null,
    /** Why no embedding is fetched although one was asked for (what to set), or null. */
    readonly embeddingProblem: string | null,
  ) {}

  static async open(
    modelPath: string,
    input: InputSize,
    options: ClassifierOptions = {},
  ): Promise<ClassifierSession> {
    // A float16 export runs as its float32 copy: the images come as float32.
    const { model, float16 } = readModelAsFloat32(modelPath);
    const graph = model.graph!;
    const logitsName = graph.output?.[0]?.name ?? '';
    let embeddingTensor: string | null = null;
    let embeddingProblem: string | null = null;
    if (options.embedding !== undefined) {
      try {
        embeddingTensor = findEmbeddingHead(model, options.embedding || undefined).tensor;
      } catch (error) {
        embeddingProblem = (error as Error).message;
      }
    }
    // The embedding becomes an extra graph output: one run gives both.
    const extra = embeddingTensor !== null && !(graph.output ?? []).some((o) => o.name === embeddingTensor);
    if (extra) graph.output = [...(graph.output ?? []), valueInfo(embeddingTensor!, DataType.FLOAT)];
    const source = float16 || extra ? serializeModel(model) : modelPath;
    return new ClassifierSession(
      await ManagedSession.open(source, options),
      input,
      logitsName,
      embeddingTensor,
      embeddingProblem,
    );
  }

  get provider(): ProviderName {
    return this.session.provider;
  }

  get providerMessages(): string[] {
    return this.session.messages;
  }

  /** Raw outputs [batch × classes] of the model's first output for `batch` images (and embeddings). */
  async logits(input: Float32Array, batch: number): Promise<ClassifierOutputs> {
    const { channels, height, width } = this.input;
    const per = channels * height * width;
    if (input.length !== batch * per)
      throw new EngineError(
        `The input has ${input.length} values but ${batch} image(s) of ${channels}×${height}×${width} need ${batch * per}.`,
        'input-size-mismatch',
      );
    const run = async (start: number, count: number): Promise<ClassifierOutputs> => {
      const tensor = new ort.Tensor('float32', input.subarray(start * per, (start + count) * per), [
        count,
        channels,
        height,
        width,
      ]);
      const outputs = await this.session.run({ [this.session.inputNames[0]]: tensor });
      const values = (outputs[this.logitsName] ?? Object.values(outputs)[0]).data as Float32Array;
      const result: ClassifierOutputs = { values, classes: values.length / count };
      if (this.embeddingTensor !== null) {
        const e = outputs[this.embeddingTensor];
        if (e.dims.length !== 2 || e.dims[0] !== count)
          throw new EngineError(
            `the embedding tensor "${this.embeddingTensor}" has shape [${e.dims.join(', ')}], not [batch, features]; ` +
              'set "embedding": {"tensor": "<name>"} in model.json to the tensor the classification head reads',
            'embedding-shape',
          );
        result.embeddings = e.data as Float32Array;
        result.dim = e.dims[1];
      }
      return result;
    };
    if (!this.oneAtATime || batch === 1) {
      try {
        return await run(0, batch);
      } catch (error) {
        if ((error as EngineError).code === 'embedding-shape') throw error;
        if (batch === 1)
          throw new EngineError(
            `The model failed to run: ${(error as Error).message.split('\n')[0]}`,
            'run-failed',
          );
        this.oneAtATime = true; // e.g. an export with the batch dimension fixed at 1
      }
    }
    const parts: ClassifierOutputs[] = [];
    for (let i = 0; i < batch; i++) parts.push(await run(i, 1));
    const { classes, dim } = parts[0];
    const values = new Float32Array(classes * batch);
    parts.forEach((p, i) => values.set(p.values, i * classes));
    if (dim === undefined) return { values, classes };
    const embeddings = new Float32Array(dim * batch);
    parts.forEach((p, i) => embeddings.set(p.embeddings!, i * dim));
    return { values, classes, embeddings, dim };
  }

  async probabilities(
    input: Float32Array,
    batch: number,
    activation: Activation,
  ): Promise<{ probs: Float32Array; classes: number; embeddings?: Float32Array; dim?: number }> {
    const { values, classes, embeddings, dim } = await this.logits(input, batch);
    return { probs: activate(values, classes, activation), classes, embeddings, dim };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
