// The workstation window: a tab per view (Datasets, Review, Stats, Compare runs, Settings), the
// dataset and run pickers, the jobs panel, a status line for saved actions, and the ? shortcut list.
import { lazy, Suspense, useMemo, useState } from 'react';
import { JobsPanel } from './components/JobsPanel';
import { LabelledSelect } from './components/LabelledSelect';
import { ShortcutHelp } from './components/ShortcutHelp';
import { useConnectionState } from './state/connection';
import { EMPTY_FILTERS, type FilterState } from './state/filters';
import { readView, setView, useView, type Tab, type ViewState } from './state/viewUrl';
import { useViewSettings } from './state/settings';
import { useShortcuts } from './state/shortcuts';
import { runState, useWorkspace, WorkspaceProvider } from './state/workspace';
import { DatasetsView } from './views/DatasetsView';
import { ReviewView } from './views/ReviewView';
import { SettingsView } from './views/SettingsView';

// Stats draws with recharts: loaded when first opened, not with the first screen.
const StatsView = lazy(() => import('./views/StatsView').then((m) => ({ default: m.StatsView })));
const CompareRunsView = lazy(() =>
  import('./views/CompareRunsView').then((m) => ({ default: m.CompareRunsView })),
);

const TABS: [Tab, string][] = [
  ['datasets', 'Datasets'],
  ['review', 'Review'],
  ['stats', 'Stats'],
  ['compare', 'Compare runs'],
  ['settings', 'Settings'],
];

/** What a status message is about: the tab, dataset, run, and grid or image view. */
function statusKeyOf(view: ViewState): string {
  return `${view.tab}|${view.datasetId}|${view.runId}|${view.imageId === null}`;
}

export function App() {
  return (
    <WorkspaceProvider>
      <Shell />
    </WorkspaceProvider>
  );
}

function Shell() {
  const { datasets, dataset, selectDataset, runs, run, selectRun } = useWorkspace();
  const [view] = useViewSettings();
  const url = useView();
  const tab = url.tab;
  const setTab = (next: Tab) => setView({ tab: next }, true);
  const [help, setHelp] = useState(false);
  // A status message belongs to the view it was said in: another view clears it.
  const [said, setSaid] = useState({ key: '', text: '' });
  const status = said.key === statusKeyOf(url) ? said.text : '';
  const setStatus = (text: string) => setSaid({ key: statusKeyOf(readView()), text });
  const filters = useMemo<FilterState>(
    () => ({ ...EMPTY_FILTERS, threshold: view.threshold, ...url.filters }),
    [view.threshold, url.filters],
  );
  // A new filter is a new grid: the open image closes. Typing and numbers replace the history
  // entry; a choice makes one (Back undoes it).
  const setFilters = (update: (f: FilterState) => FilterState, push?: boolean) => {
    const next = update(filters);
    const changed = (Object.keys(next) as (keyof FilterState)[]).filter(
      (k) => JSON.stringify(next[k]) !== JSON.stringify(filters[k]),
    );
    const typed = changed.every((k) => ['text', 'scoreMin', 'scoreMax', 'threshold'].includes(k));
    setView({ filters: next, imageId: null, at: null }, push ?? !typed);
  };
  // A new epoch means the service came back: the current view is mounted afresh and reloads.
  const connection = useConnectionState();
  useShortcuts([{ keys: ['?'], description: 'help', run: () => setHelp(true) }]);

  return (
    <div className="app">
      <header className="topbar">
        <h1>ViT Saliency Workstation</h1>
        <nav role="tablist" aria-label="Views">
          {TABS.map(([id, label]) => (
            <button
              key={id}
              role="tab"
              aria-selected={tab === id}
              className={tab === id ? 'active' : ''}
              onClick={() => setTab(id)}
            >
              {label}
            </button>
          ))}
        </nav>
        <LabelledSelect
          className="picker"
          caption="Dataset"
          value={String(dataset?.id ?? '')}
          onChange={(id) => selectDataset(Number(id))}
        >
          {datasets.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </LabelledSelect>
        <LabelledSelect
          className="picker"
          caption="Run"
          value={String(run?.id ?? '')}
          onChange={(id) => selectRun(id ? Number(id) : null)}
        >
          <option value="">none</option>
          {runs.map((r) => (
            <option key={r.id} value={r.id} title={`#${r.id} ${r.name} (${runState(r)})`}>
              #{r.id} {r.modelName ?? r.name} ({runState(r)})
            </option>
          ))}
        </LabelledSelect>
        <button className="help-button" aria-label="Keyboard shortcuts" onClick={() => setHelp(true)}>
          ?
        </button>
      </header>
      {connection.status === 'lost' && (
        <div role="alert" className="connection-banner">
          The workstation service is gone: reconnecting
          {connection.attempt > 0 ? ` (attempt ${connection.attempt + 1})` : ''}… Unsaved actions may need
          redoing once it is back.
        </div>
      )}
      <main className="content" key={connection.epoch}>
        {tab === 'datasets' && <DatasetsView onReview={() => setTab('review')} />}
        {tab === 'review' && <ReviewView filters={filters} setFilters={setFilters} onStatus={setStatus} />}
        {tab === 'stats' && (
          <Suspense fallback={<p className="empty">Loading…</p>}>
            <StatsView
              onOpenCell={(trueClass, predClass) =>
                setView(
                  {
                    tab: 'review',
                    filters: { threshold: filters.threshold, trueClass, predClass },
                    imageId: null,
                    at: null,
                  },
                  true,
                )
              }
            />
          </Suspense>
        )}
        {tab === 'compare' && (
          <Suspense fallback={<p className="empty">Loading…</p>}>
            <CompareRunsView key={dataset?.id} />
          </Suspense>
        )}
        {tab === 'settings' && <SettingsView />}
      </main>
      <footer className="statusbar">
        <output aria-live="polite" aria-label="Status">
          {status}
        </output>
        <JobsPanel key={connection.epoch} />
      </footer>
      {help && <ShortcutHelp onClose={() => setHelp(false)} />}
    </div>
  );
}
