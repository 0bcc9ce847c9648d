// What the grid shows while it holds "Find similar" candidates: the query, how they are ranked,
// the keys that confirm and reject, and the way back to the filtered grid.
import type { GridItem } from '../../../electron/contract/query';
import type { Result, TagInfo } from '../../../electron/contract/protocol';

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
  result: Result<'similar.find'>;
  items: GridItem[];
}

interface Props {
  view: SimilarView;
  datasetName: string;
  onMode(mode: 'nearest' | 'mean'): void;
  onBack(): void;
}

export function SimilarBanner({ view, datasetName, onMode, onBack }: Props) {
  const { result, pattern } = view;
  const query = result.query.tag
    ? `the ${result.query.images.length} images tagged “${result.query.tag}”`
    : `${result.query.images.length === 1 ? result.query.images[0] : `${result.query.images.length} selected images`}`;
  return (
    <section className="similar-banner" aria-label="Find similar">
      <p>
        <strong>Find similar:</strong> {view.items.length} images of {datasetName} most like {query}, best
        first, by cosine similarity of their embeddings (run #{result.pool.run}, {result.index.kind} index
        over {result.index.vectors.toLocaleString()}).{' '}
        {pattern
          ? `Confirm a candidate with “${pattern.name}”'s key${pattern.hotkey !== null ? ` (${pattern.hotkey})` : ''}; reject it with x (not this pattern).`
          : 'Tag candidates with a tag key; x hides one.'}
      </p>
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
      <button onClick={onBack}>Back to the grid</button>
    </section>
  );
}
