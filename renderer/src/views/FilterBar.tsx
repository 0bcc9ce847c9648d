// The review grid's filters, each with the count of images it would keep (the core's facets).
import { forwardRef } from 'react';
import type { Facets } from '../../../electron/contract/query';
import { LabelledSelect, TextOptions } from '../components/LabelledSelect';
import { TagFilter } from '../components/TagFilter';
import type { FilterState } from '../state/filters';
import { useViewSettings } from '../state/settings';
import { useWorkspace } from '../state/workspace';

interface Props {
  filters: FilterState;
  facets: Facets | null;
  onChange(patch: Partial<FilterState>): void;
  onReset(): void;
}

const count = (n: number | undefined) => (n === undefined ? '' : ` (${n.toLocaleString()})`);

export const FilterBar = forwardRef<HTMLInputElement, Props>(function FilterBar(
  { filters, facets, onChange, onReset },
  textRef,
) {
  const { run, classes, tags } = useWorkspace();
  const [settings, updateSettings] = useViewSettings();
  const trueCount = new Map(facets?.trueClass.map((c) => [c.label ?? '', c.count]));
  const predCount = new Map(facets?.predClass.map((c) => [c.label, c.count]));
  const tagCount = new Map(facets?.tags.map((t) => [t.tagId, t.count]));
  const verdictCount = new Map(facets?.verdict.map((v) => [v.verdict ?? 'none', v.count]));
  const noRun = run === null;
  return (
    <section className="filters" aria-label="Filters">
      <div className="filter-row">
        <LabelledSelect
          caption="Error type"
          value={filters.errorType}
          disabled={noRun}
          onChange={(errorType) =>
            // Errors are reviewed most confident first (and the score index serves that order
            // at a million images); a sort the reviewer chose is kept.
            onChange(
              errorType !== 'all' && filters.sort === 'path'
                ? { errorType, sort: 'score', direction: 'desc' }
                : { errorType },
            )
          }
        >
          <option value="all">All</option>
          <option value="fp">False positives</option>
          <option value="fn">False negatives</option>
        </LabelledSelect>
        <LabelledSelect
          caption="Class"
          value={filters.errorClass}
          disabled={noRun}
          onChange={(errorClass) => onChange({ errorClass })}
        >
          <option value="">{filters.errorType === 'all' ? '—' : 'any class'}</option>
          <TextOptions values={classes} />
        </LabelledSelect>
        <label>
          Score threshold
          <input
            aria-label="Score threshold"
            type="number"
            min={0}
            max={1}
            step={0.05}
            value={filters.threshold}
            disabled={noRun}
            onChange={(e) => onChange({ threshold: Math.min(1, Math.max(0, Number(e.target.value) || 0)) })}
          />
        </label>
        <ClassSelect
          label="True class"
          value={filters.trueClass}
          classes={classes}
          counts={trueCount}
          onChange={(trueClass) => onChange({ trueClass })}
        />
        <ClassSelect
          label="Predicted class"
          value={filters.predClass}
          classes={classes}
          counts={predCount}
          disabled={noRun}
          onChange={(predClass) => onChange({ predClass })}
        />
        <label>
          Score
          <span className="range">
            <input
              aria-label="Minimum score"
              placeholder="min"
              value={filters.scoreMin}
              disabled={noRun}
              onChange={(e) => onChange({ scoreMin: e.target.value })}
            />
            –
            <input
              aria-label="Maximum score"
              placeholder="max"
              value={filters.scoreMax}
              disabled={noRun}
              onChange={(e) => onChange({ scoreMax: e.target.value })}
            />
          </span>
        </label>
      </div>
      <div className="filter-row">
        <LabelledSelect
          caption="Tags"
          name="Tag match"
          value={filters.tagMode}
          onChange={(tagMode) => onChange({ tagMode })}
        >
          <option value="any">any of</option>
          <option value="all">all of</option>
          <option value="none">none of</option>
        </LabelledSelect>
        <TagFilter
          tags={tags}
          chosen={filters.tagIds}
          counts={tagCount}
          onChange={(tagIds) => onChange({ tagIds })}
        />
        <label className="check">
          <input
            type="checkbox"
            checked={filters.untagged}
            onChange={(e) => onChange({ untagged: e.target.checked })}
          />
          Untagged{count(facets?.untagged)}
        </label>
        <label className="check">
          <input
            type="checkbox"
            aria-label="Has mask"
            checked={filters.hasMask}
            onChange={(e) => onChange({ hasMask: e.target.checked })}
          />
          Has mask{count(facets?.masked)}
        </label>
        <LabelledSelect
          caption="Reviewed"
          value={filters.reviewed}
          onChange={(reviewed) => onChange({ reviewed })}
        >
          <option value="any">Any</option>
          <option value="yes">Reviewed{count(facets?.reviewed.reviewed)}</option>
          <option value="no">Not reviewed{count(facets?.reviewed.unreviewed)}</option>
        </LabelledSelect>
        <LabelledSelect
          caption="Verdict"
          value={filters.verdict}
          onChange={(verdict) => onChange({ verdict })}
        >
          <option value="">Any</option>
          <option value="model-error">Model error{count(verdictCount.get('model-error'))}</option>
          <option value="label-wrong">Label wrong{count(verdictCount.get('label-wrong'))}</option>
          <option value="unsure">Unsure{count(verdictCount.get('unsure'))}</option>
          <option value="none">No verdict{count(verdictCount.get('none'))}</option>
        </LabelledSelect>
        <LabelledSelect
          caption="Region check"
          value={filters.regionCheck}
          onChange={(regionCheck) => onChange({ regionCheck })}
        >
          <option value="">Any</option>
          <option value="decisive">Checked: region decisive</option>
          <option value="not-decisive">Checked: not decisive</option>
          <option value="unchecked">Not checked</option>
        </LabelledSelect>
        <label>
          Text
          <input
            ref={textRef}
            aria-label="Text filter"
            type="search"
            placeholder="path or note  ( / )"
            value={filters.text}
            onChange={(e) => onChange({ text: e.target.value })}
          />
        </label>
        <LabelledSelect caption="Sort" value={filters.sort} onChange={(sort) => onChange({ sort })}>
          <option value="path">Path</option>
          <option value="score" disabled={noRun}>
            Score
          </option>
          <option value="random">Random (stable)</option>
        </LabelledSelect>
        <button
          aria-label="Sort direction"
          onClick={() => onChange({ direction: filters.direction === 'asc' ? 'desc' : 'asc' })}
        >
          {filters.direction === 'asc' ? '↑' : '↓'}
        </button>
        <button onClick={onReset}>Reset</button>
        <label className="check">
          <input
            type="checkbox"
            aria-label="Heatmaps in grid"
            checked={settings.overlayInGrid}
            disabled={noRun}
            onChange={(e) => updateSettings({ overlayInGrid: e.target.checked })}
          />
          Heatmaps
        </label>
        <output className="total" aria-label="Matching images">
          {facets ? `${facets.total.toLocaleString()} ${describeTotal(filters, noRun, facets.total)}` : '…'}
        </output>
      </div>
    </section>
  );
});

/** What the count counts: images, or the errors the error filter asks for. */
function describeTotal(f: FilterState, noRun: boolean, total: number): string {
  if (noRun || f.errorType === 'all') return total === 1 ? 'image' : 'images';
  const at = `at ≥ ${f.threshold}`;
  if (f.errorType === 'fp')
    return f.errorClass ? `false positives of ${f.errorClass} ${at}` : `misclassified ${at} (any class)`;
  return f.errorClass ? `false negatives of ${f.errorClass} ${at}` : `missed ${at} (any class)`;
}

/** A labelled class picker with "Any" and each class's count under the current filter. */
function ClassSelect(props: {
  label: string;
  value: string;
  classes: string[];
  counts: Map<string, number>;
  disabled?: boolean;
  onChange(value: string): void;
}) {
  return (
    <LabelledSelect
      caption={props.label}
      value={props.value}
      disabled={props.disabled}
      onChange={props.onChange}
    >
      <option value="">Any</option>
      {props.classes.map((c) => (
        <option key={c} value={c}>
          {c}
          {count(props.counts.get(c))}
        </option>
      ))}
    </LabelledSelect>
  );
}
