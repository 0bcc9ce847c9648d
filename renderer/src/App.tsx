// The workstation window: datasets on the left, the selected dataset's image grid on the right.
import { useCallback, useEffect, useState } from 'react';
import type { DatasetSummary } from '../../electron/contract/protocol';
import { useConnection } from './state/connection';
import { DatasetsPanel } from './views/DatasetsPanel';
import { ImageGrid } from './views/ImageGrid';

export function App() {
  const { client } = useConnection();
  const [datasets, setDatasets] = useState<DatasetSummary[]>([]);
  const [selected, setSelected] = useState<number | null>(null);

  const refresh = useCallback(
    () =>
      void client.call('datasets.list', {}).then((list) => {
        setDatasets(list);
        setSelected((current) => current ?? list[0]?.id ?? null);
      }),
    [client],
  );

  useEffect(() => {
    refresh();
    return client.onEvent((event) => {
      if (event.type === 'datasetsChanged') refresh();
    });
  }, [client, refresh]);

  const dataset = datasets.find((d) => d.id === selected) ?? null;
  return (
    <div className="app">
      <header className="topbar">
        <h1>ViT Saliency Workstation</h1>
        {dataset && (
          <span className="muted">
            {dataset.name} · {dataset.imageCount.toLocaleString()} images
          </span>
        )}
      </header>
      <DatasetsPanel
        datasets={datasets}
        selected={selected}
        onSelect={setSelected}
        onImported={(id) => {
          setSelected(id);
          refresh();
        }}
      />
      <main className="content">
        {dataset ? (
          <ImageGrid key={dataset.id} dataset={dataset} />
        ) : (
          <p className="empty">
            Add a folder of images to start: type its path under “Dataset folder” and press Import.
          </p>
        )}
      </main>
    </div>
  );
}
