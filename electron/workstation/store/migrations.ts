// Versioned schema migrations. Each entry runs once, in order, inside a transaction; the applied
// versions are recorded in schema_migrations. Never edit a released migration: add a new one.
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'datasets and images',
    sql: `
      CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
      );
      CREATE TABLE dataset_roots (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        UNIQUE (dataset_id, path)
      );
      CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        root_id INTEGER NOT NULL REFERENCES dataset_roots(id) ON DELETE CASCADE,
        rel_path TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        format TEXT NOT NULL,
        label TEXT,
        status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'changed', 'missing')),
        added_at TEXT NOT NULL,
        UNIQUE (root_id, rel_path)
      );
      CREATE INDEX images_dataset ON images (dataset_id, id);
      CREATE INDEX images_hash ON images (content_hash);
      CREATE TABLE import_reports (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        finished_at TEXT NOT NULL,
        report TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'models, runs, predictions, saliency cache, tags, review, audit log, jobs',
    sql: `
      ALTER TABLE images ADD COLUMN note TEXT;
      ALTER TABLE images ADD COLUMN reviewed_at TEXT;
      ALTER TABLE images ADD COLUMN verdict TEXT
        CHECK (verdict IS NULL OR verdict IN ('model-error', 'label-wrong', 'unsure'));
      ALTER TABLE images ADD COLUMN split TEXT NOT NULL DEFAULT 'pool'
        CHECK (split IN ('pool', 'validation', 'test'));
      CREATE INDEX images_dataset_path ON images (dataset_id, rel_path);
      CREATE TABLE reviewers (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
      );
      CREATE TABLE label_mappings (
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        PRIMARY KEY (dataset_id, source)
      );
      CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        card TEXT,
        labels TEXT NOT NULL,
        added_at TEXT NOT NULL
      );
      -- A run: one model over one dataset with fixed settings. settings_key identifies "the same
      -- command" so that re-running it resumes the run instead of starting another.
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        model_id INTEGER REFERENCES models(id),
        name TEXT NOT NULL,
        labels TEXT NOT NULL,
        settings TEXT NOT NULL,
        settings_key TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
        created_at TEXT NOT NULL,
        finished_at TEXT,
        UNIQUE (dataset_id, settings_key)
      );
      -- The full probability vector as float16 (probs may be NULL for imported top-1 results).
      CREATE TABLE predictions (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        top1 INTEGER NOT NULL,
        score REAL NOT NULL,
        true_idx INTEGER,
        probs BLOB,
        PRIMARY KEY (run_id, image_id)
      ) WITHOUT ROWID;
      CREATE INDEX predictions_score ON predictions (run_id, score, image_id);
      CREATE INDEX predictions_top1 ON predictions (run_id, top1, score, image_id);
      CREATE INDEX predictions_true ON predictions (run_id, true_idx, top1);
      CREATE INDEX predictions_image ON predictions (image_id);
      CREATE TABLE saliency_cache (
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        method TEXT NOT NULL,
        target INTEGER NOT NULL,
        options_hash TEXT NOT NULL,
        grid_rows INTEGER NOT NULL,
        grid_cols INTEGER NOT NULL,
        map BLOB NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (image_id, run_id, method, target, options_hash)
      ) WITHOUT ROWID;
      CREATE TABLE tags (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        colour TEXT NOT NULL,
        hotkey INTEGER CHECK (hotkey IS NULL OR hotkey BETWEEN 1 AND 9),
        description TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        UNIQUE (dataset_id, name),
        UNIQUE (dataset_id, hotkey)
      );
      CREATE TABLE image_tags (
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
        reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
        added_at TEXT NOT NULL,
        PRIMARY KEY (image_id, tag_id)
      ) WITHOUT ROWID;
      CREATE INDEX image_tags_tag ON image_tags (tag_id, image_id);
      -- Every add and remove, by whom and when: what tags export/import exchange.
      CREATE TABLE tag_events (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
        reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
        action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
        at TEXT NOT NULL
      );
      CREATE INDEX tag_events_image_tag ON tag_events (image_id, tag_id, at);
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        summary TEXT NOT NULL,
        payload TEXT NOT NULL,
        undone_at TEXT
      );
      CREATE INDEX audit_log_dataset ON audit_log (dataset_id, id);
      -- Long jobs with their checkpoint: a job whose process died stays 'running' with a dead pid
      -- and is continued by the next run of the same command (same key) or a service restart.
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('predict', 'explain', 'export')),
        key TEXT NOT NULL,
        params TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
        done INTEGER NOT NULL DEFAULT 0,
        total INTEGER NOT NULL DEFAULT 0,
        pid INTEGER,
        host TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        result TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX jobs_key ON jobs (key, status);
      -- An export's frozen plan: which images, in which order; done marks the checkpoint.
      CREATE TABLE export_items (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        done INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (job_id, seq)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'export plans frozen whole, skipped images',
    sql: `
      -- The planned image as JSON (paths, tags, names of its files, manifest fields), frozen when
      -- the export starts: a resume writes exactly this, whatever the tags are by then.
      ALTER TABLE export_items ADD COLUMN plan TEXT;
      -- Why the image is not in the export (its file is missing, unreadable...); NULL: exported.
      ALTER TABLE export_items ADD COLUMN skipped TEXT;
    `,
  },
  {
    version: 4,
    name: 'region checks',
    sql: `
      -- "Check this region": the map's top pixels hidden, p(target) before and after, and the
      -- contrast regions, kept with the image.
      CREATE TABLE region_checks (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        method TEXT NOT NULL,
        target TEXT NOT NULL,
        fraction REAL NOT NULL,
        before REAL NOT NULL,
        after REAL NOT NULL,
        random REAL NOT NULL,
        bottom REAL NOT NULL,
        decisive INTEGER NOT NULL CHECK (decisive IN (0, 1)),
        reviewer_id INTEGER REFERENCES reviewers(id),
        checked_at TEXT NOT NULL
      );
      CREATE INDEX region_checks_image ON region_checks (image_id, id);
    `,
  },
  // A mask of the region that decides the class, attached to an image by import (`--masks`, a
  // manifest's mask column, a masks/ folder).
  {
    version: 5,
    name: 'image masks; an index for whole-dataset facets',
    sql: `
      ALTER TABLE images ADD COLUMN mask_path TEXT;
      -- The facets of a whole dataset, counted from this index instead of a scan of every image
      -- row (seconds at a million). Its first column is the expression dataset_id + 0 so that no
      -- other query (they filter on dataset_id itself) is planned on it.
      CREATE INDEX images_facets ON images ((dataset_id + 0), label, verdict, split, status,
        (reviewed_at IS NOT NULL), (mask_path IS NOT NULL));
    `,
  },
  // Embeddings (float16 rows of one append-only file per run, under the data dir's embeddings/) and
  // "not this pattern": a candidate a reviewer rejected for a tag is never proposed for it again.
  {
    version: 6,
    name: 'embedding rows, pattern rejections',
    sql: `
      -- Which row of the run's embedding file holds an image's embedding; written in the same
      -- transaction as the prediction, after the row's bytes are on disk.
      CREATE TABLE embedding_rows (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        row INTEGER NOT NULL,
        PRIMARY KEY (run_id, image_id)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX embedding_rows_row ON embedding_rows (run_id, row);
      -- By tag name: the tag need not exist in the image's dataset (a pool) when it is rejected.
      CREATE TABLE pattern_rejections (
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
        rejected_at TEXT NOT NULL,
        PRIMARY KEY (image_id, tag)
      ) WITHOUT ROWID;
    `,
  },
];
