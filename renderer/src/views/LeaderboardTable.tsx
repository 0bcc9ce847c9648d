// A model's faithfulness leaderboard (faithfulness.json beside its card): every method's deletion
// and insertion AUC with 95% CIs, localisation where masks were given, time per image, and the
// default method it makes. Shown in the model view and in Settings.
import { useEffect, useState } from 'react';
import type { Result } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';

type Board = Result<'models.leaderboard'>;
type Interval = { mean: number; ci95: [number, number] | null };

const fmt = (i: Interval) =>
  `${i.mean.toFixed(3)}${i.ci95 ? ` ±${((i.ci95[1] - i.ci95[0]) / 2).toFixed(3)}` : ''}`;

export function LeaderboardTable({ model }: { model: string }) {
  const { client } = useConnection();
  const [state, setState] = useState<{ model: string; board?: Board; error?: string } | null>(null);
  useEffect(() => {
    let live = true;
    if (!model.trim()) return;
    client
      .call('models.leaderboard', { model })
      .then((board) => live && setState({ model, board }))
      .catch((e: Error) => live && setState({ model, error: e.message }));
    return () => {
      live = false;
    };
  }, [client, model]);
  const current = state?.model === model ? state : null;
  if (!current) return null;
  // A half-typed path in the model field is no model yet: nothing to show.
  if (current.error) return null;
  const { board } = current;
  if (!board) return null;
  const lb = board.leaderboard;
  return (
    <section className="leaderboard" aria-label={`Leaderboard of ${board.name}`}>
      <h3>Faithfulness leaderboard · {board.name}</h3>
      <p aria-label="Default method">
        Default method: <strong>{board.defaultMethod}</strong> ({board.reason})
      </p>
      {!lb ? (
        <p className="muted">
          Not scored yet. Run <code>vsw evaluate --model {board.path} --input FOLDER --leaderboard</code>.
        </p>
      ) : (
        <>
          <p className="muted">
            {lb.images} images of {lb.dataset}
            {lb.subset ? ` (${lb.subset.rule}; ${lb.subset.of} in the folder)` : ''} · {lb.machine}
          </p>
          <table>
            <thead>
              <tr>
                <th>method</th>
                <th title="area under the deletion curve, 95% CI: lower is better">deletion ↓</th>
                <th title="area under the insertion curve, 95% CI: higher is better">insertion ↑</th>
                {lb.maskArea !== undefined && (
                  <th title="share of the map's mass inside the mask">mass in mask</th>
                )}
                {lb.maskArea !== undefined && (
                  <th title="the map's hottest pixel inside the mask">pointing</th>
                )}
                <th>ms / image</th>
                <th title="mean of the deletion and insertion ranks (ties where the CIs overlap)">rank</th>
              </tr>
            </thead>
            <tbody>
              {lb.methods.map((m) => (
                <tr key={m.method} className={m.method === lb.winner.method ? 'winner' : ''}>
                  <th>{m.method}</th>
                  <td>{fmt(m.deletion)}</td>
                  <td>{fmt(m.insertion)}</td>
                  {lb.maskArea !== undefined && <td>{m.localisation ? fmt(m.localisation.maskMass) : ''}</td>}
                  {lb.maskArea !== undefined && (
                    <td>{m.localisation ? `${(m.localisation.pointing * 100).toFixed(1)}%` : ''}</td>
                  )}
                  <td>{m.msPerImage ? m.msPerImage.mean.toFixed(1) : ''}</td>
                  <td>{m.rank.mean}</td>
                </tr>
              ))}
              <tr className="muted">
                <th>random</th>
                <td>{fmt(lb.random.deletion)}</td>
                <td>{fmt(lb.random.insertion)}</td>
                {lb.maskArea !== undefined && (
                  <td>{lb.random.localisation ? fmt(lb.random.localisation.maskMass) : ''}</td>
                )}
                {lb.maskArea !== undefined && (
                  <td>
                    {lb.random.localisation ? `${(lb.random.localisation.pointing * 100).toFixed(1)}%` : ''}
                  </td>
                )}
                <td />
                <td />
              </tr>
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

/** The leaderboards of every bundled model (Settings). */
export function BundledLeaderboards() {
  const { client } = useConnection();
  const [models, setModels] = useState<Result<'models.bundled'>>([]);
  useEffect(() => {
    void client.call('models.bundled', {}).then(setModels);
  }, [client]);
  return (
    <>
      {models.map((m) => (
        <LeaderboardTable key={m.path} model={m.path} />
      ))}
    </>
  );
}
