// What every view shares: the datasets, the chosen dataset and run, its tags and runs, and the
// labels the run's model knows. Refreshed when the service announces a change.
import { unlessDisconnected } from '../client/callErrors';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { DatasetSummary, RunInfo, TagInfo } from '../../../electron/contract/protocol';
import { useConnection, useConnectionState } from './connection';
import { readView, setView, useView } from './viewUrl';

export interface Workspace {
  datasets: DatasetSummary[];
  dataset: DatasetSummary | null;
  selectDataset(id: number): void;
  runs: RunInfo[];
  run: RunInfo | null;
  selectRun(id: number | null): void;
  tags: TagInfo[];
  /** The dataset's runs are known (before that, the chosen run may still change). */
  runsLoaded: boolean;
  /** The run's labels, else the dataset's imported labels. */
  classes: string[];
  reviewer: string;
  refreshDatasets(): void;
  refreshTags(): void;
}

/** A run that stopped before predicting every image (cancelled or failed): never picked for the
 *  reviewer, marked wherever runs are listed, and resumable or deletable under Datasets. */
export function isPartial(run: RunInfo): boolean {
  return run.status === 'cancelled' || run.status === 'failed';
}

/** The run's state in words: "done", "running", or "partial: cancelled at 992 predictions". */
export function runState(run: RunInfo): string {
  return isPartial(run)
    ? `partial: ${run.status} at ${run.predictions.toLocaleString()} predictions`
    : run.status;
}

const WorkspaceContext = createContext<Workspace | null>(null);

export function useWorkspace(): Workspace {
  const workspace = useContext(WorkspaceContext);
  if (!workspace) throw new Error('useWorkspace outside WorkspaceProvider');
  return workspace;
}

export function WorkspaceProvider({ children }: { children: ReactNode }) {
  const { client } = useConnection();
  const { epoch } = useConnectionState();
  const [datasets, setDatasets] = useState<DatasetSummary[]>([]);
  const [runs, setRuns] = useState<RunInfo[]>([]);
  const [runsOf, setRunsOf] = useState<number | null>(null);
  // The chosen dataset and run live in the URL (see viewUrl.ts).
  const { datasetId, runId } = useView();
  const [tags, setTags] = useState<TagInfo[]>([]);
  const [reviewer, setReviewer] = useState('');

  const refreshDatasets = useCallback(
    () =>
      client
        .call('datasets.list', {})
        .then((list) => {
          setDatasets(list);
          const current = readView().datasetId;
          if (current === null || !list.some((d) => d.id === current))
            setView({ datasetId: list[0]?.id ?? null, runId: null });
        })
        .catch(unlessDisconnected),
    [client],
  );
  const refreshRuns = useCallback(() => {
    if (datasetId === null) return;
    client
      .call('runs.list', { datasetId })
      .then((list) => {
        setRuns(list);
        setRunsOf(datasetId);
        // The reviewer's choice stays (a partial run too, once picked); otherwise the newest
        // finished run. A partial run (cancelled, failed, still running) is never picked for them.
        const current = readView().runId;
        if (current !== null && list.some((r) => r.id === current)) return;
        const done = list.filter((r) => r.status === 'done');
        setView({ runId: done.length ? done[done.length - 1].id : null });
      })
      .catch(unlessDisconnected);
  }, [client, datasetId]);
  const refreshTags = useCallback(() => {
    if (datasetId === null) return;
    client.call('tags.list', { datasetId }).then(setTags).catch(unlessDisconnected);
  }, [client, datasetId]);

  useEffect(() => {
    refreshDatasets();
    client
      .call('app.info', {})
      .then((info) => setReviewer(info.reviewer))
      .catch(unlessDisconnected);
    return client.onEvent((event) => {
      if (event.type === 'datasetsChanged' || event.type === 'imagesChanged') refreshDatasets();
    });
  }, [client, refreshDatasets, epoch]);

  useEffect(() => {
    refreshRuns();
    refreshTags();
    return client.onEvent((event) => {
      if ('datasetId' in event && event.datasetId !== datasetId) return;
      if (event.type === 'runsChanged' || event.type === 'job.finished') refreshRuns();
      if (event.type === 'tagsChanged') refreshTags();
    });
  }, [client, datasetId, refreshRuns, refreshTags, epoch]);

  const dataset = datasets.find((d) => d.id === datasetId) ?? null;
  const run = runs.find((r) => r.id === runId) ?? null;
  const classes = useMemo(
    () => (run ? run.labels : (dataset?.labels.map((l) => l.label).filter((l) => l !== '') ?? [])),
    [run, dataset],
  );

  const value: Workspace = {
    datasets,
    dataset,
    selectDataset: (id) => {
      if (id !== datasetId)
        setView({ datasetId: id, runId: null, filters: {}, imageId: null, at: null }, true);
    },
    runs,
    runsLoaded: runsOf === datasetId && (runId === null || run !== null),
    run,
    selectRun: (id) => {
      if (id !== runId) setView({ runId: id, imageId: null, at: null }, true);
    },
    tags,
    classes,
    reviewer,
    refreshDatasets,
    refreshTags,
  };
  return <WorkspaceContext.Provider value={value}>{children}</WorkspaceContext.Provider>;
}
