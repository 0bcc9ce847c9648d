// The grid's tag filter: a drop-down with a search box over a multi-select listbox, one row per tag
// with its colour, its count under the current filters and its hotkey. Built for 100 tags and more
// (the list scrolls, the search narrows it); keyboard: arrows move, Space or Enter toggles.
import { useRef, useState } from 'react';
import type { TagInfo } from '../../../electron/contract/protocol';

interface Props {
  tags: TagInfo[];
  chosen: number[];
  /** Each tag's count under the current filters; absent while loading. */
  counts: Map<number, number>;
  onChange(tagIds: number[]): void;
}

export function TagFilter({ tags, chosen, counts, onChange }: Props) {
  const [search, setSearch] = useState('');
  const [active, setActive] = useState(0);
  const list = useRef<HTMLUListElement>(null);
  const needle = search.trim().toLowerCase();
  const shown = needle ? tags.filter((t) => t.name.toLowerCase().includes(needle)) : tags;
  const names = tags.filter((t) => chosen.includes(t.id)).map((t) => t.name);
  const toggle = (id: number) =>
    onChange(chosen.includes(id) ? chosen.filter((c) => c !== id) : [...chosen, id]);
  const moveTo = (index: number) => {
    const next = Math.max(0, Math.min(shown.length - 1, index));
    setActive(next);
    list.current?.querySelectorAll<HTMLElement>('[role=option]')[next]?.scrollIntoView({ block: 'nearest' });
  };

  return (
    <details className="tag-filter">
      <summary aria-label={`Tag filter: ${names.length ? names.join(', ') : 'no tag chosen'}`}>
        {names.length === 0 ? 'Choose tags' : names.length === 1 ? names[0] : `${names.length} tags`}
      </summary>
      <div className="tag-filter-popover">
        <input
          type="search"
          aria-label="Search tags"
          placeholder={`search ${tags.length} tags`}
          value={search}
          onChange={(e) => {
            setSearch(e.target.value);
            setActive(0);
          }}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') {
              e.preventDefault();
              list.current?.focus();
              moveTo(0);
            }
          }}
        />
        <ul
          ref={list}
          role="listbox"
          aria-label="Tag filter"
          aria-multiselectable="true"
          aria-activedescendant={shown[active] ? `tag-filter-${shown[active].id}` : undefined}
          tabIndex={0}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
              e.preventDefault();
              moveTo(active + (e.key === 'ArrowDown' ? 1 : -1));
            } else if ((e.key === ' ' || e.key === 'Enter') && shown[active]) {
              e.preventDefault();
              toggle(shown[active].id);
            }
          }}
        >
          {shown.length === 0 && <li className="muted">No tag matches “{search}”.</li>}
          {shown.map((tag, k) => {
            const count = counts.get(tag.id);
            const selected = chosen.includes(tag.id);
            return (
              <li
                key={tag.id}
                id={`tag-filter-${tag.id}`}
                role="option"
                aria-selected={selected}
                aria-label={`${tag.name} (${count ?? '…'})${tag.hotkey !== null ? `, key ${tag.hotkey}` : ''}`}
                className={`${selected ? 'selected' : ''}${k === active ? ' active' : ''}`}
                onClick={() => {
                  setActive(k);
                  toggle(tag.id);
                }}
              >
                <span className="check-mark" aria-hidden="true">
                  {selected ? '✓' : ''}
                </span>
                <span className="swatch" style={{ background: tag.colour }} />
                <span className="tag-name" title={tag.name}>
                  {tag.name}
                </span>
                <span className="count">{count === undefined ? '…' : count.toLocaleString()}</span>
                {tag.hotkey !== null ? <kbd>{tag.hotkey}</kbd> : <span className="no-key" />}
              </li>
            );
          })}
        </ul>
        {chosen.length > 0 && (
          <button className="small" onClick={() => onChange([])}>
            Clear
          </button>
        )}
      </div>
    </details>
  );
}
