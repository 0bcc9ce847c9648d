// The datasets view: add a folder or a manifest, pick a dataset, see its size, labels, runs and
// last import report, and start a prediction run with a bundled model or one from a file.
import { unlessDisconnected } from '../client/callErrors';
import { useEffect, useState } from 'react';
import {
  describeMasks,
  type ImportReport,
  type Result,
  type RunInfo,
} from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';
import { uiError } from '../state/uiErrors';
import { isPartial, useWorkspace } from '../state/workspace';
import { LeaderboardTable } from './LeaderboardTable';

export function DatasetsView({ onReview }: { onReview(): void }) {
  const { client } = useConnection();
  const { datasets, dataset, selectDataset, runs, run, selectRun, refreshDatasets } = useWorkspace();
  const [folder, setFolder] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [models, setModels] = useState<Result<'models.bundled'>>([]);
  const [model, setModel] = useState('');
  const [runError, setRunError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<number | null>(null);

  useEffect(() => {
    client
      .call('models.bundled', {})
      .then((list) => {
        setModels(list);
        setModel((current) => current || list[0]?.path || '');
      })
      .catch(unlessDisconnected);
  }, [client]);
  useEffect(() => {
    if (!dataset) return;
    let live = true;
    client
      .call('datasets.lastImport', { datasetId: dataset.id })
      .then((r) => live && setReport(r))
      .catch(unlessDisconnected);
    return () => {
      live = false;
    };
  }, [client, dataset]);

  const importFolder = async () => {
    setBusy(true);
    setError(null);
    try {
      const result = await client.call('datasets.add', { path: folder.trim() });
      setReport(result.report);
      refreshDatasets();
      selectDataset(result.dataset.id);
    } catch (e) {
      setError(uiError((e as Error).message));
    } finally {
      setBusy(false);
    }
  };

  const runModel = async () => {
    if (!dataset) return;
    setRunError(null);
    try {
      const { provider } = await client.call('settings.get', {}); // the execution provider chosen in Settings
      // The run is chosen for review once it is done (see workspace.tsx), not while it runs.
      await client.call('jobs.predict', { datasetId: dataset.id, model: model.trim(), provider });
    } catch (e) {
      setRunError(uiError((e as Error).message));
    }
  };

  const resume = async (r: RunInfo) => {
    if (!dataset) return;
    setRunError(null);
    try {
      const { provider } = await client.call('settings.get', {});
      await client.call('jobs.predict', { datasetId: dataset.id, model: String(r.settings.model), provider });
    } catch (e) {
      setRunError(uiError((e as Error).message));
    }
  };

  const remove = async (r: RunInfo) => {
    setRunError(null);
    setDeleting(null);
    try {
      await client.call('runs.delete', { runId: r.id });
      if (r.id === run?.id) selectRun(null);
    } catch (e) {
      setRunError(uiError((e as Error).message));
    }
  };

  return (
    <div className="datasets-view">
      <aside className="sidebar" aria-label="Datasets">
        <h2>Datasets</h2>
        <form
          className="add-folder"
          onSubmit={(e) => {
            e.preventDefault();
            void importFolder();
          }}
        >
          <label htmlFor="dataset-folder">Dataset folder</label>
          <input
            id="dataset-folder"
            value={folder}
            placeholder="/path/to/images or manifest.csv"
            onChange={(e) => setFolder(e.target.value)}
            spellCheck={false}
          />
          {window.vswShell && (
            <button
              type="button"
              onClick={() => void window.vswShell!.chooseFolder().then((f) => f && setFolder(f))}
            >
              Browse…
            </button>
          )}
          <button type="submit" disabled={busy || folder.trim() === ''}>
            {busy ? 'Importing…' : 'Import'}
          </button>
        </form>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <ul className="dataset-list">
          {datasets.map((d) => (
            <li key={d.id}>
              <button className={d.id === dataset?.id ? 'active' : ''} onClick={() => selectDataset(d.id)}>
                <strong>{d.name}</strong>
                <span className="muted">
                  {d.imageCount.toLocaleString()} images · {d.labels.filter((l) => l.label).length} labels
                </span>
              </button>
            </li>
          ))}
        </ul>
      </aside>
      {dataset ? (
        <div className="dataset-detail">
          <section className="card" aria-label="Dataset">
            <h2>{dataset.name}</h2>
            <p className="muted">
              {dataset.imageCount.toLocaleString()} images in {dataset.roots.join(', ')}
            </p>
            <div className="label-chips">
              {dataset.labels.map((l) => (
                <span key={l.label} className="chip plain">
                  {l.label || '(no label)'} <span className="muted">{l.count}</span>
                </span>
              ))}
            </div>
          </section>
          <section className="card" aria-label="Runs">
            <h2>Prediction runs</h2>
            <div className="run-form">
              <label>
                Model
                <input
                  aria-label="Model"
                  list="bundled-models"
                  value={model}
                  onChange={(e) => setModel(e.target.value)}
                  placeholder="model folder or .onnx file"
                />
                <datalist id="bundled-models">
                  {models.map((m) => (
                    <option key={m.path} value={m.path}>
                      {m.name}
                    </option>
                  ))}
                </datalist>
              </label>
              <button className="primary" disabled={!model.trim()} onClick={() => void runModel()}>
                Run model
              </button>
            </div>
            {runError && (
              <p role="alert" className="error">
                {runError}
              </p>
            )}
            <LeaderboardTable model={model} />
            <table className="runs">
              <tbody>
                {runs.map((r) => (
                  <tr
                    key={r.id}
                    className={`${r.id === run?.id ? 'active' : ''}${isPartial(r) ? ' partial' : ''}`}
                  >
                    <td>
                      <label className="check">
                        <input
                          type="radio"
                          name="run"
                          aria-label={`Run ${r.id}`}
                          checked={r.id === run?.id}
                          onChange={() => selectRun(r.id)}
                        />
                        <span className="run-name" title={r.name}>
                          #{r.id} {r.modelName ?? r.name}
                        </span>
                      </label>
                    </td>
                    <td>
                      {isPartial(r) ? <span className="chip status">partial · {r.status}</span> : r.status}
                    </td>
                    <td>
                      {r.predictions.toLocaleString()} of {dataset.imageCount.toLocaleString()} predicted
                    </td>
                    <td className="muted">{new Date(r.createdAt).toLocaleString()}</td>
                    <td className="run-actions">
                      {isPartial(r) && typeof r.settings.model === 'string' && (
                        <button className="small" onClick={() => void resume(r)}>
                          Resume
                        </button>
                      )}
                      {r.status !== 'running' &&
                        (deleting === r.id ? (
                          <>
                            <button className="small danger" onClick={() => void remove(r)}>
                              Delete run #{r.id} and its predictions
                            </button>
                            <button className="small" onClick={() => setDeleting(null)}>
                              Keep
                            </button>
                          </>
                        ) : (
                          <button
                            className="small"
                            aria-label={`Delete run ${r.id}`}
                            onClick={() => setDeleting(r.id)}
                          >
                            Delete…
                          </button>
                        ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <button onClick={onReview}>Review this dataset →</button>
          </section>
          {report && (
            <section className="card report" aria-label="Import report">
              <h2>Last import</h2>
              <p>
                {report.added} added · {report.changed} changed · {report.unchanged} unchanged ·{' '}
                {report.missing} missing · {report.skipped.length} skipped · {report.seconds.toFixed(1)} s
              </p>
              {report.masks && <p className="mask-line">{describeMasks(report.masks)}</p>}
              {report.skipped.length > 0 && (
                <ul>
                  {report.skipped.slice(0, 200).map((s) => (
                    <li key={s.path}>
                      <code>{s.path}</code>: {s.reason}
                    </li>
                  ))}
                </ul>
              )}
            </section>
          )}
        </div>
      ) : (
        <p className="empty">
          Add a folder of images to start: type its path under “Dataset folder” and press Import.
        </p>
      )}
    </div>
  );
}
