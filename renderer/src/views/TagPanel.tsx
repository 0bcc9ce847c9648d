// The tags panel: the dataset's taxonomy (colour, hotkey), a checkbox per tag for the selected
// images, create / rename / merge / delete, the verdict and a note on the focused image.
import { useState } from 'react';
import type { GridItem } from '../../../electron/contract/query';
import type { TagInfo } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';
import { useWorkspace } from '../state/workspace';
import { enqueueWrite } from '../state/writeQueue';

interface Props {
  selectedItems: GridItem[];
  focused: GridItem | null;
  onToggleTag(tag: TagInfo): void;
  onChanged(): void;
  /** "Find similar" from a tag's images. */
  onFindSimilar(tag: TagInfo): void;
}

export function TagPanel({ selectedItems, focused, onToggleTag, onChanged, onFindSimilar }: Props) {
  const { client } = useConnection();
  const { dataset, tags, refreshTags } = useWorkspace();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<number | null>(null);

  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await enqueueWrite(work);
      refreshTags();
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const addTag = () => {
    if (!dataset || !name.trim()) return;
    const used = new Set(tags.map((t) => t.hotkey));
    const hotkey = [1, 2, 3, 4, 5, 6, 7, 8, 9].find((k) => !used.has(k)) ?? null;
    void act(() =>
      // the service picks the next palette colour
      client.call('tags.create', { datasetId: dataset.id, name: name.trim(), hotkey }),
    ).then(() => setName(''));
  };

  return (
    <aside className="tag-panel" aria-label="Tags">
      <h2>Tags</h2>
      <p className="muted">
        {selectedItems.length === 0 ? 'Select images to tag them.' : `${selectedItems.length} selected`}
      </p>
      <ul className="tag-list">
        {tags.map((tag) => {
          const have = selectedItems.filter((item) => item.tagIds.includes(tag.id)).length;
          return (
            <li key={tag.id}>
              <label className="tag-row">
                <input
                  type="checkbox"
                  aria-label={tag.name}
                  checked={have > 0 && have === selectedItems.length}
                  ref={(el) => {
                    if (el) el.indeterminate = have > 0 && have < selectedItems.length;
                  }}
                  disabled={selectedItems.length === 0}
                  onChange={() => onToggleTag(tag)}
                />
                <span className="swatch" style={{ background: tag.colour }} />
                <span className="tag-name">{tag.name}</span>
                {tag.hotkey !== null && <kbd>{tag.hotkey}</kbd>}
                <span className="muted">{tag.count}</span>
              </label>
              <button
                className="small"
                aria-label={`Find similar to ${tag.name}`}
                title={`Find more images like the ${tag.count} tagged “${tag.name}”`}
                disabled={tag.count === 0}
                onClick={() => onFindSimilar(tag)}
              >
                ≈
              </button>
              <button
                className="small"
                aria-label={`Edit tag ${tag.name}`}
                onClick={() => setEditing(editing === tag.id ? null : tag.id)}
              >
                ⋯
              </button>
              {editing === tag.id && (
                <TagEditor tag={tag} tags={tags} act={act} onDone={() => setEditing(null)} />
              )}
            </li>
          );
        })}
      </ul>
      <form
        className="new-tag"
        onSubmit={(e) => {
          e.preventDefault();
          addTag();
        }}
      >
        <input
          aria-label="New tag"
          placeholder="new pattern, e.g. dark shorts"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <button type="submit" disabled={!name.trim()}>
          Add tag
        </button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {focused && <ImageNotes key={focused.id} item={focused} act={act} />}
    </aside>
  );
}

function TagEditor({
  tag,
  tags,
  act,
  onDone,
}: {
  tag: TagInfo;
  tags: TagInfo[];
  act(work: () => Promise<unknown>): Promise<void>;
  onDone(): void;
}) {
  const { client } = useConnection();
  const [name, setName] = useState(tag.name);
  const [hotkey, setHotkey] = useState(tag.hotkey === null ? '' : String(tag.hotkey));
  const [into, setInto] = useState('');
  return (
    <div className="tag-editor">
      <input aria-label="Tag name" value={name} onChange={(e) => setName(e.target.value)} />
      <input
        aria-label="Tag colour"
        type="color"
        defaultValue={tag.colour}
        onChange={(e) =>
          void act(() => client.call('tags.update', { tagId: tag.id, colour: e.target.value }))
        }
      />
      <select aria-label="Tag hotkey" value={hotkey} onChange={(e) => setHotkey(e.target.value)}>
        <option value="">no key</option>
        {[1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => (
          <option key={k} value={k}>
            {k}
          </option>
        ))}
      </select>
      <button
        onClick={() =>
          void act(() =>
            client.call('tags.update', {
              tagId: tag.id,
              name,
              hotkey: hotkey === '' ? null : Number(hotkey),
            }),
          ).then(onDone)
        }
      >
        Save
      </button>
      <select aria-label="Merge into" value={into} onChange={(e) => setInto(e.target.value)}>
        <option value="">merge into…</option>
        {tags
          .filter((t) => t.id !== tag.id)
          .map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
      </select>
      <button
        disabled={!into}
        onClick={() =>
          void act(() => client.call('tags.merge', { sourceTagId: tag.id, targetTagId: Number(into) })).then(
            onDone,
          )
        }
      >
        Merge
      </button>
      <button
        className="danger"
        onClick={() => {
          if (
            confirm(`Delete the tag “${tag.name}”? It is removed from ${tag.count} images (undo with u).`)
          ) {
            void act(() => client.call('tags.delete', { tagId: tag.id })).then(onDone);
          }
        }}
      >
        Delete
      </button>
    </div>
  );
}

function ImageNotes({ item, act }: { item: GridItem; act(work: () => Promise<unknown>): Promise<void> }) {
  const { client } = useConnection();
  const [note, setNote] = useState(item.note ?? '');
  const selection = { imageIds: [item.id] };
  return (
    <section className="notes" aria-label="Image">
      <h3 title={item.relPath}>{item.relPath}</h3>
      <div className="verdicts" role="group" aria-label="Verdict">
        {(
          [
            ['model-error', 'Model error'],
            ['label-wrong', 'Label wrong'],
            ['unsure', 'Unsure'],
          ] as const
        ).map(([value, text]) => (
          <button
            key={value}
            aria-pressed={item.verdict === value}
            onClick={() =>
              void act(() =>
                client.call('images.setReview', {
                  selection,
                  verdict: item.verdict === value ? null : value,
                }),
              )
            }
          >
            {text}
          </button>
        ))}
      </div>
      <label className="check">
        <input
          type="checkbox"
          checked={item.reviewed}
          onChange={(e) =>
            void act(() => client.call('images.setReview', { selection, reviewed: e.target.checked }))
          }
        />
        Reviewed
      </label>
      <label htmlFor="image-note">Note</label>
      <textarea
        id="image-note"
        aria-label="Note"
        value={note}
        rows={3}
        onChange={(e) => setNote(e.target.value)}
        onBlur={() => {
          if (note !== (item.note ?? ''))
            void act(() => client.call('images.setNote', { imageId: item.id, note }));
        }}
      />
    </section>
  );
}
