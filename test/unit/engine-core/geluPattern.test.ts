// The spelled-out erf GELU is differentiated as one unit: which spellings are recognised, that a
// GELU whose inner tensors are used elsewhere is left to the per-op rules, and that the gradient
// matches finite differences either way (ONNX Runtime).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGeluUnits } from '../../../electron/engine/graph/gradient/geluPattern';
import { GradientContext } from '../../../electron/engine/graph/gradient/vjpContext';
import { GraphEditor } from '../../../electron/engine/graph/graphEditor';
import type { ModelProto } from '../../../electron/engine/onnx/onnxSchema';
import { probeTensors } from '../../../electron/engine/graph/shapeProbe';
import { buildModel, gradientError } from './graphTestKit';

const DIMS = [2, 7];

const spellings: { name: string; build: (e: GraphEditor) => string }[] = [
  {
    name: 'x·(1 + erf(x/√2))·½ (PyTorch export)',
    build: (e) => {
      const erf = e.op('Erf', [e.op('Div', ['x', e.float(Math.SQRT2)])]);
      return e.op('Mul', [e.op('Mul', ['x', e.op('Add', [erf, e.float(1)])]), e.float(0.5)]);
    },
  },
  {
    name: '(x·½)·(1 + erf(x·(1/√2))), constants first',
    build: (e) => {
      const erf = e.op('Erf', [e.op('Mul', [e.float(Math.SQRT1_2), 'x'])]);
      return e.op('Mul', [e.op('Add', [e.float(1), erf]), e.op('Mul', ['x', e.float(0.5)])]);
    },
  },
];

async function units(model: ModelProto): Promise<number> {
  const info = await probeTensors(model, 'x', DIMS);
  const ctx = new GradientContext(new GraphEditor(model, 17), info);
  return findGeluUnits(model.graph!.node!, ctx).length;
}

describe('erf GELU as one unit', () => {
  for (const s of spellings) {
    it(`recognises ${s.name} and its gradient matches finite differences`, async () => {
      const model = buildModel(17, DIMS, (e) => e.op('Mul', [s.build(e), 'x']));
      assert.equal(await units(model), 1);
      assert.ok((await gradientError(model, DIMS)) < 3e-3);
    });
  }

  it('leaves a GELU whose erf is also used elsewhere to the per-op rules, still exact', async () => {
    const model = buildModel(17, DIMS, (e) => {
      const erf = e.op('Erf', [e.op('Div', ['x', e.float(Math.SQRT2)])]);
      const y = e.op('Mul', [e.op('Mul', ['x', e.op('Add', [erf, e.float(1)])]), e.float(0.5)]);
      return e.op('Add', [y, e.op('Mul', [erf, e.float(3)])]);
    });
    assert.equal(await units(model), 0);
    assert.ok((await gradientError(model, DIMS)) < 3e-3);
  });

  it('does not take a different constant for the GELU', async () => {
    const model = buildModel(17, DIMS, (e) => {
      const erf = e.op('Erf', [e.op('Div', ['x', e.float(1.5)])]);
      return e.op('Mul', [e.op('Mul', ['x', e.op('Add', [erf, e.float(1)])]), e.float(0.5)]);
    });
    assert.equal(await units(model), 0);
    assert.ok((await gradientError(model, DIMS)) < 3e-3);
  });
});
