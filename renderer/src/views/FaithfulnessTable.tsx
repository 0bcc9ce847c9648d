// Deletion and insertion scores of each method's map for this image, computed on demand by the
// engine's evaluate, with a random map as the floor: which map to trust for this model.
import { useState } from 'react';
import type { Result } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';

export function FaithfulnessTable({
  imageId,
  runId,
  target,
}: {
  imageId: number;
  runId: number;
  target: string;
}) {
  const { client } = useConnection();
  const [state, setState] = useState<{
    key: string;
    result?: Result<'evaluate.image'>;
    error?: string;
    busy?: boolean;
  } | null>(null);
  const key = `${imageId}|${runId}|${target}`;
  const current = state?.key === key ? state : null;
  const run = () => {
    setState({ key, busy: true });
    client
      .call('evaluate.image', { imageId, runId, target })
      .then((result) => setState({ key, result }))
      .catch((e: Error) => setState({ key, error: e.message }));
  };
  return (
    <section className="faithfulness" aria-label="Faithfulness">
      <h3>Faithfulness</h3>
      {!current?.result && (
        <button onClick={run} disabled={current?.busy}>
          {current?.busy ? 'Scoring…' : 'Score the maps (deletion / insertion)'}
        </button>
      )}
      {current?.error && <p className="error">{current.error}</p>}
      {current?.result && (
        <table>
          <thead>
            <tr>
              <th>map</th>
              <th title="area under the deletion curve: lower is better">deletion ↓</th>
              <th title="area under the insertion curve: higher is better">insertion ↑</th>
            </tr>
          </thead>
          <tbody>
            {current.result.results.map((r) => (
              <tr key={r.method} className={r.method === 'random' ? 'muted' : ''}>
                <th>{r.method}</th>
                <td>{r.deletion.toFixed(3)}</td>
                <td>{r.insertion.toFixed(3)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
