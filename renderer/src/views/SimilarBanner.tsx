// What the grid shows while it holds "Find similar" candidates: the query, the dataset ranked (the
// reviewed one or another, e.g. an unlabelled pool), how they are ranked, the keys that confirm and
// reject, and the way back to the reviewed dataset's filtered grid.
import type { GridItem } from '../../../electron/contract/query';
import type { DatasetSummary, Result, TagInfo } from '../../../electron/contract/protocol';

/** Candidates asked for per search. */
export const SIMILAR_K = 100;

export interface SimilarView {
  /** Distinguishes successive results (the grid starts afresh on each). */
  seq: number;
  /** The grid's query it was started from (another query ends it). */
  base: string;
  from: { tag?: TagInfo; images?: boolean };
  /** The tag the candidates are confirmed into and rejected from, when the search started from one. */
  pattern: TagInfo | null;
  /** The dataset ranked when it is not the reviewed one (a pool), with its tags. */
  pool: { id: number; name: string; tags: TagInfo[] } | null;
  result: Result<'similar.find'>;
  items: GridItem[];
}

interface Props {
  view: SimilarView;
  datasetName: string;
  /** Datasets to search in (the reviewed one first). */
  datasets: DatasetSummary[];
  onMode(mode: 'nearest' | 'mean'): void;
  onSearchIn(datasetId: number): void;
  onBack(): void;
}

export function SimilarBanner({ view, datasetName, datasets, onMode, onSearchIn, onBack }: Props) {
  const { result, pattern, pool } = view;
  const query = result.query.tag
    ? `the ${result.query.images.length} images tagged “${result.query.tag}”`
    : `${result.query.images.length === 1 ? result.query.images[0] : `${result.query.images.length} selected images`}`;
  const shown = pool?.name ?? datasetName;
  return (
    <section className={`similar-banner${pool ? ' pool' : ''}`} aria-label="Find similar">
      {pool && (
        <p className="similar-pool">
          Showing <strong>{pool.name}</strong>, another dataset: confirmed candidates are tagged there (
          {pattern ? `as “${pattern.name}”` : 'with the tag of the same name'}). Back returns to {datasetName}
          .
        </p>
      )}
      <p>
        <strong>Find similar:</strong> {view.items.length} images of {shown} most like {query}
        {pool ? ` in ${datasetName}` : ''}, best first, by cosine similarity of their embeddings (run #
        {result.pool.run}, {result.index.kind} index over {result.index.vectors.toLocaleString()}).{' '}
        {pattern
          ? `Confirm a candidate with “${pattern.name}”'s key${pattern.hotkey !== null ? ` (${pattern.hotkey})` : ''}; reject it with x (not this pattern).`
          : 'Tag candidates with a tag key; x hides one.'}
      </p>
      <SearchInSelect
        name="Search in"
        datasets={datasets}
        value={pool?.id ?? datasets[0]?.id ?? 0}
        onChange={onSearchIn}
      />
      <label>
        Score by{' '}
        <select
          aria-label="Score by"
          value={result.mode}
          onChange={(e) => onMode(e.target.value as 'nearest' | 'mean')}
        >
          <option value="nearest">nearest member of the set</option>
          <option value="mean">mean of the set</option>
        </select>
      </label>
      <button onClick={onBack}>Back to the grid of {datasetName}</button>
    </section>
  );
}

/** The dataset Find similar ranks: the reviewed one (first in `datasets`) or another, e.g. a pool. */
export function SearchInSelect({
  name,
  datasets,
  value,
  onChange,
}: {
  name: string;
  datasets: DatasetSummary[];
  value: number;
  onChange(datasetId: number): void;
}) {
  return (
    <label>
      {name}{' '}
      <select aria-label={name} value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {datasets.map((d, i) => (
          <option key={d.id} value={d.id}>
            {i === 0 ? `this dataset (${d.name})` : d.name}
          </option>
        ))}
      </select>
    </label>
  );
}
