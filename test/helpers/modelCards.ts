// model.json cards for the small test models: a square input resized exactly, pixels scaled to
// 0…1 and normalised with mean = std = 0.5 on every channel, softmax output.
export interface TestCardSpec {
  name: string;
  labels: string[];
  /** 1 reads images as grayscale, 3 as RGB. */
  channels: 1 | 3;
  /** Input height and width. */
  side: number;
  prefix: number;
  grid: [number, number];
  patchSize?: [number, number];
}

export function testModelCard(spec: TestCardSpec) {
  const { side, channels } = spec;
  return {
    schemaVersion: 1,
    name: spec.name,
    file: 'model.onnx',
    labels: spec.labels,
    input: { name: 'input', channels, height: side, width: side },
    preprocessing: {
      resize: { height: side, width: side, mode: 'exact' },
      crop: null,
      colour: channels === 1 ? 'grayscale' : 'rgb',
      scale: 1 / 255,
      mean: new Array<number>(channels).fill(0.5),
      std: new Array<number>(channels).fill(0.5),
    },
    tokens: { prefix: spec.prefix, grid: spec.grid, ...(spec.patchSize && { patchSize: spec.patchSize }) },
    output: { activation: 'softmax' },
  };
}
