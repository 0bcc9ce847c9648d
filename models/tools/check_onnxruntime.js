// Runs ONNX files with onnxruntime-node and compares the logits with the PyTorch reference.
//   node models/tools/check_onnxruntime.js test/fixtures/*/ [models/.work/fashion-vit/ort-check]
// Each folder holds input.npy (float32 .npy v1.0), reference.json ({"logits": [...]} for one
// image or [[...], ...] for a batch) and model.onnx (or model-path.txt naming the ONNX file
// relative to the folder). Needs `npm install` in the repository root (onnxruntime-node).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', '..', 'node_modules', 'onnxruntime-node'));

function readNpy(file) {
  const buf = fs.readFileSync(file);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  if (!header.includes("'<f4'")) throw new Error(`${file}: not float32 little-endian`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + hlen, buf.byteOffset + buf.length));
  return { shape, data };
}

async function check(dir) {
  const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'));
  const alt = path.join(dir, 'model-path.txt');
  const model = fs.existsSync(alt) ? path.join(dir, fs.readFileSync(alt, 'utf8').trim()) : path.join(dir, 'model.onnx');
  const { shape, data } = readNpy(path.join(dir, 'input.npy'));
  const session = await ort.InferenceSession.create(model);
  const out = await session.run({ input: new ort.Tensor('float32', data, shape) });
  const got = out.logits.data;
  const want = ref.logits.flat();
  let maxAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
    maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  const rel = maxAbs / Math.max(maxRef, 1e-6);
  const ok = got.length === want.length && rel < 1e-4;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${dir}: ${got.length} logits, max rel err ${rel.toExponential(2)}`);
  return ok;
}

(async () => {
  let ok = true;
  for (const dir of process.argv.slice(2)) ok = (await check(dir)) && ok;
  process.exit(ok ? 0 : 1);
})();
