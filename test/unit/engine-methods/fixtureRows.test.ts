// The class-token-row methods (attn-grad-product with the default options, last-attn) computed from
// the PyTorch fixtures' stored attention rows and gradients must give the fixtures' maps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { attnGradProductFromRows, lastAttnFromRows, type ClsRows } from '../../../electron/engine/methods';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures');

interface Reference {
  style: string;
  prefixTokens: number;
  targets: Record<
    string,
    {
      index: number;
      blocks: { clsAttention: number[][]; clsGradient: number[][] }[];
      maps: Record<string, number[]>;
    }
  >;
}

// Fixtures with class-token rows (models without a class token record per-block terms only).
const refOf = (style: string) =>
  JSON.parse(readFileSync(path.join(FIXTURES, style, 'reference.json'), 'utf8')) as {
    windowed?: boolean;
    targets: Record<string, { blocks: { clsAttention?: unknown }[] }>;
  };
const styles = existsSync(FIXTURES)
  ? readdirSync(FIXTURES).filter(
      (s) =>
        existsSync(path.join(FIXTURES, s, 'reference.json')) &&
        refOf(s).targets.top1.blocks[0].clsAttention !== undefined,
    )
  : [];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('fixtures are present', () => {
  assert.ok(
    styles.length >= 6,
    `expected the six export styles under test/fixtures, found ${styles.join(', ') || 'none'}`,
  );
});

for (const style of styles) {
  test(`${style}: attn-grad-product and last-attn from the stored class-token rows match PyTorch within 1e-4`, () => {
    const ref = JSON.parse(readFileSync(path.join(FIXTURES, style, 'reference.json'), 'utf8')) as Reference;
    for (const [name, target] of Object.entries(ref.targets)) {
      const rows: ClsRows[] = target.blocks.map((b) => ({
        heads: b.clsAttention.length,
        tokens: b.clsAttention[0].length,
        attention: b.clsAttention.flat(),
        gradient: b.clsGradient.flat(),
      }));
      const product = attnGradProductFromRows(rows, ref.prefixTokens);
      const last = lastAttnFromRows(rows, ref.prefixTokens);
      const dp = maxAbsDiff(product, target.maps['attn-grad-product']);
      const dl = maxAbsDiff(last, target.maps['last-attn']);
      assert.ok(dp <= 1e-4, `${style} ${name} attn-grad-product max abs diff ${dp}`);
      assert.ok(dl <= 1e-4, `${style} ${name} last-attn max abs diff ${dl}`);
    }
  });
}
