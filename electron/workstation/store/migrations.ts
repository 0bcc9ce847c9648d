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
];
