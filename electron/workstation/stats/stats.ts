// Counts over the images a query selects: per tag, per class, tag × predicted class, the run's
// confusion matrix with per-class precision and recall, and review progress.
import type { Stats } from '../../contract/protocol';
import type { ImageQuery } from '../../contract/query';
import { countSelection, tagCounts } from '../query/selectionCounts';
import type { Db } from '../store/openDatabase';

export function computeStats(db: Db, query: ImageQuery): Stats {
  const sel = countSelection(db, query);
  const { run, all, one } = sel;
  const images = one('SELECT COUNT(*) FROM sel');
  const { tags, untagged } = tagCounts(sel, query.datasetId);
  let classes: Stats['classes'];
  let confusion: Stats['confusion'] = null;
  let tagByPredClass: Stats['tagByPredClass'] = [];
  if (run) {
    const n = run.labels.length;
    const matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (const r of all<{ t: number; p: number; c: number }>(
      'SELECT true_idx AS t, top1 AS p, COUNT(*) AS c FROM sel WHERE true_idx IS NOT NULL AND top1 IS NOT NULL GROUP BY true_idx, top1',
    )) {
      if (r.t < n && r.p < n) matrix[r.t][r.p] = r.c;
    }
    const unmappedLabel = one('SELECT COUNT(*) FROM sel WHERE true_idx IS NULL AND top1 IS NOT NULL');
    const predicted = new Array<number>(n).fill(0);
    for (const r of all<{ p: number; c: number }>(
      'SELECT top1 AS p, COUNT(*) AS c FROM sel WHERE top1 IS NOT NULL GROUP BY top1',
    ))
      if (r.p < n) predicted[r.p] = r.c;
    const support = matrix.map((row) => row.reduce((a, b) => a + b, 0));
    const predictedMapped = run.labels.map((_, c) => matrix.reduce((a, row) => a + row[c], 0));
    classes = run.labels.map((label, c) => ({ label, images: support[c], predicted: predicted[c] }));
    confusion = {
      labels: run.labels,
      matrix,
      unmappedLabel,
      perClass: run.labels.map((label, c) => ({
        label,
        support: support[c],
        precision: predictedMapped[c] ? matrix[c][c] / predictedMapped[c] : null,
        recall: support[c] ? matrix[c][c] / support[c] : null,
      })),
    };
    tagByPredClass = all<{ tagId: number; tag: string; p: number; count: number }>(
      `SELECT t.id AS tagId, t.name AS tag, sel.top1 AS p, COUNT(*) AS count
       FROM image_tags it JOIN sel ON sel.id = it.image_id JOIN tags t ON t.id = it.tag_id
       WHERE sel.top1 IS NOT NULL GROUP BY t.id, sel.top1 ORDER BY t.name, sel.top1`,
    ).map((r) => ({ tagId: r.tagId, tag: r.tag, predClass: run.labels[r.p] ?? String(r.p), count: r.count }));
  } else {
    classes = all<{ label: string | null; images: number }>(
      'SELECT label, COUNT(*) AS images FROM sel GROUP BY label ORDER BY label',
    ).map((r) => ({ ...r, predicted: 0 }));
  }
  const reviewed = one('SELECT COUNT(*) FROM sel WHERE reviewed_at IS NOT NULL');
  const verdicts: Record<string, number> = {};
  for (const r of all<{ verdict: string; c: number }>(
    'SELECT verdict, COUNT(*) AS c FROM sel WHERE verdict IS NOT NULL GROUP BY verdict',
  ))
    verdicts[r.verdict] = r.c;
  return {
    images,
    runId: run?.id ?? null,
    tags,
    untagged,
    classes,
    tagByPredClass,
    confusion,
    review: { reviewed, unreviewed: images - reviewed, verdicts },
  };
}
