// Execution providers: asking for one that cannot start here (CUDA is not installed on this
// machine; WebGPU has no adapter without a GPU) falls back to the CPU with a message, never a crash.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { ExplainSession } from '../../../electron/engine/explainSession';
import { explainBatch } from '../../../electron/engine/explainBatch';
import { missingCudaLibraries } from '../../../electron/engine/providers';
import { SaliencyStore } from '../../../electron/workstation/saliency/saliencyStore';
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
          /^(CUDA not installed \(see README: GPU\)|cuda unavailable: .+); using CPU$/m,
        );
        assert.ok(logged.some((m) => /^(CUDA not installed|cuda unavailable)/.test(m)));
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
          // One line for everything passed over, ending with the outcome.
          assert.equal(session.providerMessages.length, 1, session.providerMessages.join('\n'));
          assert.match(
            session.providerMessages[0],
            /(CUDA not installed|cuda unavailable).*; webgpu unavailable: .*; using CPU$/,
          );
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
      // CI installs a software Vulkan driver (lavapipe) that WebGPU can use: point the Vulkan
      // loader at no driver, so that this process has no adapter (read when Dawn first starts).
      const saved = { files: process.env.VK_DRIVER_FILES, icd: process.env.VK_ICD_FILENAMES };
      process.env.VK_DRIVER_FILES = process.env.VK_ICD_FILENAMES = path.join(os.tmpdir(), 'no-such-icd.json');
      const session = await ExplainSession.open(file, { provider: 'webgpu' });
      try {
        assert.equal(session.provider, 'cpu');
        assert.match(session.providerMessages[0], /^webgpu unavailable: /);
      } finally {
        await session.close();
        for (const [name, value] of [
          ['VK_DRIVER_FILES', saved.files],
          ['VK_ICD_FILENAMES', saved.icd],
        ] as const)
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
      }
    },
  );

  it('rejects an unknown provider name with a clear message', async () => {
    await assert.rejects(
      ExplainSession.open(file, { provider: 'tpu' as 'cpu' }),
      /Unknown execution provider 'tpu'/,
    );
  });

  it('a session that fails while running moves to the CPU, and the session, its report and Settings say so', async () => {
    const session = await ExplainSession.open(file, { provider: 'cpu' });
    const store = new SaliencyStore(undefined as never, tmp);
    try {
      const x = randomArray(64, rng(4));
      const before = await session.saliency(x, 1, [0], 'attn-grad-product');
      // Stand-in for a GPU provider that breaks mid-run (no GPU here): the explain and fused
      // sessions claim WebGPU, and the fused session's next ORT run throws once.
      const internals = session as unknown as {
        explainSession: { current: string };
        fused: Map<string, Promise<{ current: string; session: { run: () => Promise<never> } }>>;
      };
      internals.explainSession.current = 'webgpu';
      const fused = await [...internals.fused.values()][0];
      fused.current = 'webgpu';
      fused.session.run = () => Promise.reject(new Error('device lost'));
      (store as unknown as { last: ExplainSession }).last = session;
      const after = await session.saliency(x, 1, [0], 'attn-grad-product');
      assert.deepEqual(Array.from(after.maps[0]), Array.from(before.maps[0]));
      assert.equal(session.provider, 'cpu');
      assert.match(
        session.providerMessages.join('\n'),
        /^webgpu failed while running \(device lost\); fell back to cpu$/m,
      );
      assert.equal(store.lastProvider, 'cpu');
      assert.match(store.providerMessages.join('\n'), /webgpu failed while running/);
      const [{ report }] = await explainBatch(session, x, 1, { target: 0, methods: ['attn-grad-product'] });
      assert.equal(report.provider, 'cpu');
    } finally {
      await session.close();
    }
  });
});

describe('CUDA probe noise', () => {
  it(
    'a run without the CUDA provider prints one calm line and no ONNX Runtime error',
    { skip: (cudaHere || missingCudaLibraries().length === 0) && 'the CUDA provider is installed here' },
    () => {
      const fixture = path.join(__dirname, '..', '..', 'fixtures', 'timm-fused-qkv');
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(__dirname, '..', '..', '..', 'electron', 'cli', 'vsw.ts'),
          'explain',
          '--model',
          path.join(fixture, 'model.onnx'),
          '--input',
          path.join(fixture, 'input.npy'),
          '--out',
          path.join(tmp, 'noise.json'),
          '--provider',
          'cuda',
        ],
        { encoding: 'utf8', env: { ...process.env, VSW_DATA_DIR: path.join(tmp, 'data') } },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /onnxruntime|Failed to load shared library|\[E:/);
      const lines = r.stderr.split('\n').filter((l) => /CUDA|cuda/.test(l));
      assert.deepEqual(lines, ['vsw: CUDA not installed (see README: GPU); using CPU']);
    },
  );
});
