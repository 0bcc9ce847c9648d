// Stats: images per tag and per tag × predicted class (bar charts), the run's confusion matrix as
// a clickable heatmap (a click opens those images in the grid), and review progress.
import { useEffect, useState } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { Stats } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';
import { useWorkspace } from '../state/workspace';

interface Props {
  onOpenCell(trueClass: string, predClass: string): void;
}

export function StatsView({ onOpenCell }: Props) {
  const { client } = useConnection();
  const { dataset, run, tags } = useWorkspace();
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!dataset) return;
    let live = true;
    client
      .call('stats.get', { query: { datasetId: dataset.id, runId: run?.id } })
      .then((s) => live && setStats(s))
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [client, dataset, run]);

  if (!dataset) return <p className="empty">No dataset yet.</p>;
  if (error) return <p className="error">{error}</p>;
  if (!stats) return <p className="empty">Loading…</p>;

  const colour = new Map(tags.map((t) => [t.name, t.colour]));
  const predClasses = [...new Set(stats.tagByPredClass.map((r) => r.predClass))];
  const byTag = stats.tags.map((t) => ({
    name: t.name,
    images: t.count,
    colour: colour.get(t.name) ?? '#888',
  }));
  const stacked = predClasses.map((pred) => {
    const row: Record<string, string | number> = { predClass: pred };
    for (const r of stats.tagByPredClass.filter((x) => x.predClass === pred)) row[r.tag] = r.count;
    return row;
  });
  const reviewedShare = stats.images ? stats.review.reviewed / stats.images : 0;

  return (
    <div className="stats">
      <section className="card" aria-label="Review progress">
        <h2>Review progress</h2>
        <ShareBar label="Reviewed" share={reviewedShare} />
        <p>
          {stats.review.reviewed.toLocaleString()} of {stats.images.toLocaleString()} reviewed (
          {percentText(reviewedShare)}) · {stats.untagged.toLocaleString()} untagged
          {Object.entries(stats.review.verdicts).map(([v, n]) => ` · ${v}: ${n}`)}
        </p>
      </section>
      <section className="card" aria-label="Images per tag">
        <h2>Images per tag</h2>
        {byTag.length === 0 ? (
          <p className="muted">No tags yet.</p>
        ) : (
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={byTag}>
              <CartesianGrid strokeDasharray="3 3" stroke="#2c313b" />
              <XAxis dataKey="name" stroke="#9aa3b2" />
              <YAxis allowDecimals={false} stroke="#9aa3b2" />
              <Tooltip contentStyle={{ background: '#1d2027', border: '1px solid #2c313b' }} />
              <Bar dataKey="images" maxBarSize={80} isAnimationActive={false}>
                {byTag.map((t) => (
                  <Cell key={t.name} fill={t.colour} />
                ))}
              </Bar>
            </BarChart>
          </ResponsiveContainer>
        )}
      </section>
      {stacked.length > 0 && (
        <section className="card" aria-label="Tags per predicted class">
          <h2>Tags × predicted class</h2>
          <ResponsiveContainer width="100%" height={240}>
            <BarChart data={stacked}>
              <CartesianGrid strokeDasharray="3 3" stroke="#2c313b" />
              <XAxis dataKey="predClass" stroke="#9aa3b2" />
              <YAxis allowDecimals={false} stroke="#9aa3b2" />
              <Tooltip contentStyle={{ background: '#1d2027', border: '1px solid #2c313b' }} />
              <Legend />
              {stats.tags.map((t) => (
                <Bar
                  key={t.tagId}
                  dataKey={t.name}
                  stackId="tags"
                  maxBarSize={80}
                  fill={colour.get(t.name) ?? '#888'}
                  isAnimationActive={false}
                />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </section>
      )}
      {stats.confusion && <ConfusionMatrix confusion={stats.confusion} onOpenCell={onOpenCell} />}
    </div>
  );
}

/** A share as a percentage with one decimal; a share too small for that reads "< 0.1%". */
function percentText(share: number): string {
  const percent = share * 100;
  return percent > 0 && percent < 0.1 ? '< 0.1%' : `${percent.toFixed(1)}%`;
}

/** A progress bar whose fill stays visible for any share above zero, with the percentage on it. */
function ShareBar({ label, share }: { label: string; share: number }) {
  const percent = share * 100;
  const text = percentText(share);
  return (
    <div
      className="share-bar"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Number(percent.toFixed(2))}
      aria-valuetext={text}
    >
      <div className="share-fill" style={{ width: share > 0 ? `max(4px, ${percent}%)` : 0 }} />
      <span className="share-text">{text}</span>
    </div>
  );
}

function ConfusionMatrix({
  confusion,
  onOpenCell,
}: {
  confusion: NonNullable<Stats['confusion']>;
  onOpenCell: Props['onOpenCell'];
}) {
  const max = Math.max(1, ...confusion.matrix.flatMap((row, i) => row.filter((_, j) => j !== i)));
  return (
    <section className="card" aria-label="Confusion matrix">
      <h2>Confusion matrix</h2>
      <p className="muted">
        Rows: true class · columns: predicted class · click a cell to open its images in the grid.
      </p>
      <table className="confusion">
        <thead>
          <tr>
            <th />
            {confusion.labels.map((l) => (
              <th key={l} className="col-label">
                <span>{l}</span>
              </th>
            ))}
            <th>recall</th>
          </tr>
        </thead>
        <tbody>
          {confusion.matrix.map((row, i) => (
            <tr key={confusion.labels[i]}>
              <th>{confusion.labels[i]}</th>
              {row.map((n, j) => {
                const strength = i === j ? 0 : n / max;
                return (
                  <td key={j}>
                    <button
                      aria-label={`${n} images of ${confusion.labels[i]} predicted ${confusion.labels[j]}`}
                      className={i === j ? 'diag' : ''}
                      style={
                        i === j ? undefined : { background: `rgba(255, 110, 80, ${0.08 + 0.92 * strength})` }
                      }
                      onClick={() => onOpenCell(confusion.labels[i], confusion.labels[j])}
                    >
                      {n}
                    </button>
                  </td>
                );
              })}
              <td className="muted">{confusion.perClass[i]?.recall?.toFixed(2) ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
