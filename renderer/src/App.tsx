// The workstation window: a tab per view (Datasets, Review, Stats, Settings), the dataset and run
// pickers, the jobs panel, a status line for saved actions, and the ? shortcut list.
import { useState } from 'react';
import { JobsPanel } from './components/JobsPanel';
import { LabelledSelect } from './components/LabelledSelect';
import { ShortcutHelp } from './components/ShortcutHelp';
import { useConnectionState } from './state/connection';
import { EMPTY_FILTERS, type FilterState } from './state/filters';
import { useViewSettings } from './state/settings';
import { useShortcuts } from './state/shortcuts';
import { useWorkspace, WorkspaceProvider } from './state/workspace';
import { DatasetsView } from './views/DatasetsView';
import { ReviewView } from './views/ReviewView';
import { SettingsView } from './views/SettingsView';
import { StatsView } from './views/StatsView';

type Tab = 'datasets' | 'review' | 'stats' | 'settings';
const TABS: [Tab, string][] = [
  ['datasets', 'Datasets'],
  ['review', 'Review'],
  ['stats', 'Stats'],
  ['settings', 'Settings'],
];

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
  const [tab, setTab] = useState<Tab>('datasets');
  const [help, setHelp] = useState(false);
  const [status, setStatus] = useState('');
  const [filters, setFiltersState] = useState<FilterState>({ ...EMPTY_FILTERS, threshold: view.threshold });
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
            <option key={r.id} value={r.id}>
              #{r.id} {r.modelName ?? r.name} ({r.status})
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
        {tab === 'review' && (
          <ReviewView filters={filters} setFilters={setFiltersState} onStatus={setStatus} />
        )}
        {tab === 'stats' && (
          <StatsView
            onOpenCell={(trueClass, predClass) => {
              setFiltersState({ ...EMPTY_FILTERS, threshold: filters.threshold, trueClass, predClass });
              setTab('review');
            }}
          />
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
