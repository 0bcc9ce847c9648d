// Execution providers: asking for one that cannot start here (CUDA is not installed on this
// machine; WebGPU has no adapter without a GPU) falls back to the CPU with a message, never a crash.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ExplainSession } from '../../../electron/engine/explainSession';
import { writeModelFile } from '../../../electron/engine/onnx/modelFile';
import { buildTinyVit, randomArray, rng } from './graphTestKit';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-providers-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const file = path.join(tmp, 'model.onnx');
writeModelFile(buildTinyVit(), file);
const cudaHere = fs.existsSync('/dev/nvidia0');

describe('execution provider fallback', () => {
  it(
    'asking for cuda where it cannot start falls back to cpu with a message',
    { skip: cudaHere && 'this machine has an NVIDIA GPU' },
    async () => {
      const logged: string[] = [];
      const session = await ExplainSession.open(file, { provider: 'cuda', log: (m) => logged.push(m) });
      try {
        assert.equal(session.provider, 'cpu');
        assert.match(
          session.providerMessages.join('\n'),
          /^cuda unavailable: .+; (fell back to|trying) cpu/m,
        );
        assert.ok(logged.some((m) => m.startsWith('cuda unavailable')));
        const maps = await session.saliency(randomArray(64, rng(1)), 1, [0], 'attn-grad-product');
        assert.equal(maps.maps[0].length, 4);
        // The predict session follows the provider that ran.
        assert.equal((await session.predict(randomArray(64, rng(2)), 1)).length, 3);
      } finally {
        await session.close();
      }
    },
  );

  it(
    "'auto' ends on a working provider quickly and says what it skipped",
    { skip: cudaHere && 'this machine has an NVIDIA GPU' },
    async () => {
      const started = Date.now();
      const session = await ExplainSession.open(file, { provider: 'auto' });
      try {
        if (session.provider === 'cpu') {
          assert.match(session.providerMessages.join('\n'), /cuda unavailable/);
          assert.match(session.providerMessages.join('\n'), /webgpu unavailable/);
        }
        assert.ok(Date.now() - started < 15000, `auto took ${Date.now() - started} ms`);
        assert.equal((await session.explain(randomArray(64, rng(3)), 1, [1])).perImage[0].length, 2);
      } finally {
        await session.close();
      }
    },
  );

  it(
    'asking for webgpu explicitly tries it and falls back to cpu where there is no adapter',
    { skip: (cudaHere || fs.existsSync('/dev/dri')) && 'this machine has a GPU' },
    async () => {
      const session = await ExplainSession.open(file, { provider: 'webgpu' });
      try {
        assert.equal(session.provider, 'cpu');
        assert.match(session.providerMessages[0], /^webgpu unavailable: /);
      } finally {
        await session.close();
      }
    },
  );

  it('rejects an unknown provider name with a clear message', async () => {
    await assert.rejects(
      ExplainSession.open(file, { provider: 'tpu' as 'cpu' }),
      /Unknown execution provider 'tpu'/,
    );
  });
});
