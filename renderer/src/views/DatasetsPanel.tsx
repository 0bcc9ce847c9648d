// The datasets sidebar: add a folder, list the datasets, show the last import's report.
import { useState } from 'react';
import type { DatasetSummary, ImportReport } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';

interface Props {
  datasets: DatasetSummary[];
  selected: number | null;
  onSelect(id: number): void;
  onImported(id: number): void;
}

export function DatasetsPanel({ datasets, selected, onSelect, onImported }: Props) {
  const { client } = useConnection();
  const [folder, setFolder] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);

  const importFolder = async () => {
    setBusy(true);
    setError(null);
    try {
      const result = await client.call('datasets.add', { path: folder.trim() });
      setReport(result.report);
      onImported(result.dataset.id);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
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
          placeholder="/path/to/images"
          onChange={(e) => setFolder(e.target.value)}
          spellCheck={false}
        />
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
            <button className={d.id === selected ? 'active' : ''} onClick={() => onSelect(d.id)}>
              <strong>{d.name}</strong>
              <span className="muted">
                {d.imageCount.toLocaleString()} images · {d.labels.filter((l) => l.label).length} labels
              </span>
            </button>
          </li>
        ))}
      </ul>
      {report && (
        <section className="report" aria-label="Import report">
          <h3>Last import</h3>
          <p>
            {report.added} added · {report.changed} changed · {report.unchanged} unchanged · {report.missing}{' '}
            missing · {report.skipped.length} skipped
          </p>
          {report.skipped.length > 0 && (
            <ul>
              {report.skipped.slice(0, 50).map((s) => (
                <li key={s.path}>
                  <code>{s.path}</code>: {s.reason}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </aside>
  );
}
