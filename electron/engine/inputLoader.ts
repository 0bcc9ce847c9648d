// Turns one explain input (an image file preprocessed by the card or by flags, or a .npy tensor
// used as given) into the model's tensor, plus what an overlay needs to be drawn on the picture
// the user sees.
import { EngineError } from './errors';
import { tensorToGray, type OverlayBase } from './heatmap';
import { isNpyFile } from './imageFiles';
import { preprocessingFromFlags, type ModelCard, type PreprocessingSpec } from './modelCard';
import { readInputTensor } from './npy';
import {
  identityGeometry,
  isWhole,
  preprocessImage,
  type InputSize,
  type PreprocessGeometry,
} from './preprocess';

export interface LoadedInput {
  tensor: Float32Array;
  geometry: PreprocessGeometry;
  overlayBase: OverlayBase;
}

export interface PreprocessingFlags {
  mean?: number[];
  std?: number[];
  size?: [number, number];
}

/**
 * The preprocessing for image inputs: the card's, with any of --mean/--std/--size overriding it,
 * or, with no card, the flags alone (all three needed). Checks it produces the model's input size.
 */
export function resolvePreprocessing(
  card: ModelCard | null,
  flags: PreprocessingFlags,
  model: InputSize,
): PreprocessingSpec {
  let spec: PreprocessingSpec;
  if (card) {
    spec = { ...card.preprocessing };
    if (flags.mean) spec.mean = flags.mean;
    if (flags.std) spec.std = flags.std;
    if (flags.size)
      spec = {
        ...spec,
        resize: { height: flags.size[0], width: flags.size[1], mode: 'exact', kernel: spec.resize?.kernel },
        crop: null,
      };
    if (
      card.input.channels !== model.channels ||
      card.input.height !== model.height ||
      card.input.width !== model.width
    ) {
      throw new EngineError(
        `The model card says the input is ${card.input.channels}×${card.input.height}×${card.input.width} but the ONNX model takes ${model.channels}×${model.height}×${model.width}; fix the card's 'input'.`,
        'card-mismatch',
      );
    }
  } else spec = preprocessingFromFlags(flags, model.channels);
  if (
    spec.resize?.mode === 'exact' &&
    !spec.crop &&
    (spec.resize.height !== model.height || spec.resize.width !== model.width)
  ) {
    throw new EngineError(
      `The resize to ${spec.resize.height}×${spec.resize.width} does not match the model's input ${model.height}×${model.width}; give --size ${model.height}x${model.width}.`,
      'input-size',
    );
  }
  return spec;
}

/** Loads one input file: a .npy tensor as given (1×C×H×W) or an image through `spec`. */
export async function loadInput(
  file: string,
  spec: PreprocessingSpec | null,
  model: InputSize,
): Promise<LoadedInput> {
  if (isNpyFile(file)) {
    const tensor = await readInputTensor(file, model);
    return {
      tensor,
      geometry: identityGeometry(model.height, model.width),
      overlayBase: {
        pixels: tensorToGray(tensor, model.channels, model.height, model.width),
        channels: 1,
        width: model.width,
        height: model.height,
      },
    };
  }
  if (!spec) throw new EngineError(`No preprocessing is known for image ${file}.`, 'needs-preprocessing');
  const { tensor, geometry, pixels, channels } = await preprocessImage(file, spec, model);
  // Where the model saw the whole picture as it is, its decoded pixels are the overlay's base.
  const { original } = geometry;
  if (isWhole(geometry) && (channels === 1 || channels === 3))
    return {
      tensor,
      geometry,
      overlayBase: { pixels, channels, width: original.width, height: original.height },
    };
  return { tensor, geometry, overlayBase: { file } };
}
