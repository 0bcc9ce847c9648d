// The view in the URL (what a reload, Back/Forward and a shared link restore) and the window's
// wording of the core's errors, as the renderer computes them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMPTY_FILTERS, toQuery } from '../../../renderer/src/state/filters';
import { uiError } from '../../../renderer/src/state/uiErrors';
import { formatView, parseView, type ViewState } from '../../../renderer/src/state/viewUrl';
import { compareLayout } from '../../../renderer/src/views/ComparePanels';

test('a view survives the round trip through the URL; defaults are left out', () => {
  const view: ViewState = {
    tab: 'review',
    datasetId: 3,
    runId: 7,
    filters: { errorType: 'fp', errorClass: 'Shirt', threshold: 0.3, tagIds: [2, 5], text: 'a&b #1' },
    imageId: 1234,
    at: 56,
    method: 'rollout',
    target: 'top2',
    compare: 'methods',
  };
  const url = formatView(view);
  assert.match(url, /^#\/review\?dataset=3&run=7&filters=/);
  assert.deepEqual(parseView(url), view);
  assert.equal(
    formatView({ ...view, filters: { ...EMPTY_FILTERS }, imageId: null, at: null }),
    '#/review?dataset=3&run=7',
    'empty filters and the grid (no open image) add nothing',
  );
});

test('a hand-edited or foreign URL falls back to the defaults instead of breaking the window', () => {
  const view = parseView('#/nonsense?dataset=x&run=-1&filters={bad&image=9&method=evil&compare=zoom');
  assert.equal(view.tab, 'datasets');
  assert.equal(view.datasetId, null);
  assert.equal(view.runId, null);
  assert.deepEqual(view.filters, {});
  assert.equal(view.imageId, 9);
  assert.equal(view.method, 'attn-grad-product');
  assert.equal(view.compare, 'none');
  assert.deepEqual(parseView('#/review?filters={"threshold":"high","tagIds":[1,"x"],"text":"ok"}').filters, {
    text: 'ok',
  });
});

test('false positives with no class ask the core for every misclassified image at the threshold', () => {
  const query = toQuery(1, 2, { ...EMPTY_FILTERS, errorType: 'fp', threshold: 0.4 });
  assert.deepEqual(query.errors, { kind: 'fp', class: undefined, threshold: 0.4 });
  assert.equal(toQuery(1, 2, { ...EMPTY_FILTERS, errorClass: 'Shirt' }).errors, undefined);
  assert.equal(toQuery(1, null, { ...EMPTY_FILTERS, hasMask: true }).hasMask, true);
});

test('errors in the window name its controls, not command-line flags', () => {
  assert.equal(
    uiError('--model my-models/x is neither an .onnx file nor a folder.'),
    'The model “my-models/x” (Model box) is neither an .onnx file nor a folder.',
  );
  assert.equal(
    uiError('errors (fp) needs a prediction run: give runId (--run RUN)'),
    'Errors (fp) needs a prediction run: choose one in the Run picker',
  );
  assert.equal(
    uiError('/x/out already exists; choose another --out or remove it first'),
    '/x/out already exists; choose another Destination folder or remove it first',
  );
  for (const message of [
    '--overlays needs a prediction run: give --run RUN',
    'cannot hardlink a into the export (EXDEV): hardlinks need the same file system; use --media copy or symlink',
  ])
    assert.doesNotMatch(uiError(message), /--[a-z]/, message);
});

test('compare panels: one row when the stage is wide, else a 2×2 grid, never three and a hole', () => {
  assert.deepEqual(compareLayout({ width: 1800, height: 400 }, 4), { columns: 4, size: 378 });
  const square = compareLayout({ width: 760, height: 700 }, 4);
  assert.equal(square.columns, 2);
  assert.ok(square.size * 2 + 12 <= 760 && square.size * 2 + 2 * 22 + 12 <= 700);
  assert.equal(compareLayout({ width: 760, height: 700 }, 2).columns, 2);
  // Eight methods: two full rows of four, not four rows of two.
  assert.equal(compareLayout({ width: 760, height: 620 }, 8).columns, 4);
});
