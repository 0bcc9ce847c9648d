// Compare runs: two finished runs of the chosen dataset at matched recall on one class — each run's
// threshold, recall and false positives; the false positives overall, per tag and untagged with
// their change and bootstrap 95% CI; both precision–recall curves with the matched point.
import { useEffect, useMemo, useState } from 'react';
import { formatChange, formatCi, type CompareResult } from '../../../electron/contract/compare';
import type { RunInfo } from '../../../electron/contract/protocol';
import type { Split } from '../../../electron/contract/query';
import { LabelledSelect, TextOptions } from '../components/LabelledSelect';
import { useConnection } from '../state/connection';
import { uiError } from '../state/uiErrors';
import { isPartial, useWorkspace } from '../state/workspace';
import { PrCurves, RUN_COLOURS } from './PrCurves';

/** The recall field: empty is run A's arg-max recall; anything else must be in (0, 1]. */
function parseRecall(text: string): { recall?: number; error?: string } {
  if (text.trim() === '') return {};
  const r = Number(text);
  return r > 0 && r <= 1 ? { recall: r } : { error: 'The recall must be above 0 and at most 1 (e.g. 0.9).' };
}

const runTitle = (r: RunInfo) => `#${r.id} ${r.modelName ?? r.name}`;

export function CompareRunsView() {
  const { client } = useConnection();
  const { dataset, runs } = useWorkspace();
  const finished = useMemo(() => runs.filter((r) => !isPartial(r)), [runs]);
  // The base run is the older of the two latest, the compared one the latest.
  const [picked, setPicked] = useState<{ a: string; b: string } | null>(null);
  const a = picked?.a ?? String(finished.at(-2)?.id ?? finished.at(-1)?.id ?? '');
  const b = picked?.b ?? String(finished.at(-1)?.id ?? '');
  const runA = finished.find((r) => String(r.id) === a);
  const runB = finished.find((r) => String(r.id) === b);
  const classes = useMemo(
    () => (runA && runB ? runA.labels.filter((l) => runB.labels.includes(l)) : []),
    [runA, runB],
  );
  const [chosenClass, setClass] = useState('');
  const className = classes.includes(chosenClass) ? chosenClass : (classes[0] ?? '');
  const [recallText, setRecallText] = useState('');
  const [split, setSplit] = useState<Split | ''>('');
  const { recall, error: recallError } = parseRecall(recallText);
  const params =
    dataset && runA && runB && className && !recallError
      ? {
          datasetId: dataset.id,
          runA: runA.id,
          runB: runB.id,
          className,
          recall,
          split: split || undefined,
        }
      : null;
  const key = JSON.stringify(params);
  // The answer to the request `key`; a different key means a newer request is on its way.
  const [state, setState] = useState<{ key: string; result: CompareResult | null; error: string | null }>({
    key: '',
    result: null,
    error: null,
  });

  useEffect(() => {
    if (key === 'null') return;
    let live = true;
    client
      .call('compare.runs', JSON.parse(key) as NonNullable<typeof params>)
      .then((result) => live && setState({ key, result, error: null }))
      .catch((e: Error) => live && setState({ key, result: null, error: uiError(e.message) }));
    return () => {
      live = false;
    };
  }, [client, key]);

  if (!dataset) return <p className="empty">No dataset yet.</p>;
  if (finished.length === 0)
    return <p className="empty">No finished run of {dataset.name} yet: run a model under Datasets first.</p>;
  const { result, error } = state;
  const busy = params !== null && state.key !== key;
  return (
    <div className="stats compare-runs">
      <section className="card compare-runs-form" aria-label="Runs to compare">
        <LabelledSelect caption="Run A (base)" value={a} onChange={(v) => setPicked({ a: v, b })}>
          {finished.map((r) => (
            <option key={r.id} value={r.id}>
              {runTitle(r)}
            </option>
          ))}
        </LabelledSelect>
        <LabelledSelect caption="Run B" value={b} onChange={(v) => setPicked({ a, b: v })}>
          {finished.map((r) => (
            <option key={r.id} value={r.id}>
              {runTitle(r)}
            </option>
          ))}
        </LabelledSelect>
        <LabelledSelect caption="Positive class" value={className} onChange={setClass}>
          <TextOptions values={classes} />
        </LabelledSelect>
        <label>
          Recall to match
          <input
            aria-label="Recall to match"
            type="text"
            inputMode="decimal"
            placeholder="A's arg-max recall"
            value={recallText}
            onChange={(e) => setRecallText(e.target.value)}
          />
        </label>
        <LabelledSelect caption="Images" value={split} onChange={setSplit}>
          <option value="">all</option>
          <option value="test">test split</option>
          <option value="validation">validation split</option>
          <option value="pool">pool split</option>
        </LabelledSelect>
        {busy && <span className="muted">Computing…</span>}
      </section>
      {recallError && (
        <p role="alert" className="error">
          {recallError}
        </p>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {result && !error && <CompareTables result={result} />}
      {result && !error && (
        <section className="card" aria-label="Curves">
          <h2>Precision–recall of {result.class}</h2>
          <PrCurves result={result} />
        </section>
      )}
    </div>
  );
}

function CompareTables({ result }: { result: CompareResult }) {
  const rows = [
    { name: 'overall', images: result.images, ...result.overall },
    ...result.patterns.map((p) => ({ ...p, name: `tag ${p.tag}` })),
    { name: 'untagged', ...result.untagged },
  ];
  return (
    <section className="card" aria-label="Matched recall">
      <h2>
        False positives at matched recall{' '}
        <output aria-label="Matched recall">{result.matchedRecall.toFixed(4)}</output>
      </h2>
      <p className="muted">
        {result.recallFrom === 'argmax' ? "Run A's arg-max recall" : 'The given recall'} on {result.class},{' '}
        {result.images.toLocaleString()} labelled images ({result.positives.toLocaleString()} {result.class}
        {result.split ? `, ${result.split} split` : ''}). Each run's threshold is the largest whose recall
        reaches it; a false positive is an image of another class whose p({result.class}) reaches it.
      </p>
      <table className="compare-table" aria-label="Runs at matched recall">
        <thead>
          <tr>
            <th scope="col">run</th>
            <th scope="col">threshold</th>
            <th scope="col">recall</th>
            <th scope="col">false positives</th>
            <th scope="col">precision</th>
          </tr>
        </thead>
        <tbody>
          {result.runs.map((r, k) => (
            <tr key={r.id}>
              <th scope="row">
                <span className="swatch" style={{ background: RUN_COLOURS[k] }} /> {k ? 'B' : 'A'}: #{r.id}{' '}
                {r.model}
              </th>
              <td>{r.threshold.toFixed(4)}</td>
              <td>{r.recall.toFixed(4)}</td>
              <td>{r.falsePositives}</td>
              <td>{r.precision?.toFixed(4) ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="compare-table" aria-label="False positives at matched recall">
        <thead>
          <tr>
            <th scope="col" />
            <th scope="col">images</th>
            <th scope="col">FP A</th>
            <th scope="col">FP B</th>
            <th scope="col">change</th>
            <th scope="col">95% CI</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name}>
              <th scope="row">{r.name}</th>
              <td>{r.images}</td>
              <td>{r.a}</td>
              <td>{r.b}</td>
              <td className={r.changePct !== null && r.changePct < 0 ? 'better' : ''}>
                {formatChange(r.changePct)}
              </td>
              <td>{formatCi(r.ci95)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        Change = (B − A) / A. CI: {result.bootstrap.n} bootstrap resamples of the images (seed{' '}
        {result.bootstrap.seed}), both thresholds chosen again on each
        {result.bootstrap.skipped
          ? `; ${result.bootstrap.skipped} resamples without a ${result.class} left out`
          : ''}
        .
      </p>
    </section>
  );
}
