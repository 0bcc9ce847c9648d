// What an export wrote, in words: files and images, one line per folder, the manifests, the
// warnings (leakage into the evaluation split, sources missing on disk) and the destination, with
// a button that opens it in the file manager (Electron only).
export interface ExportResultView {
  out: string;
  images: number;
  files: number;
  folders: Record<string, number>;
  manifests: string[];
  leakage: {
    warning: string | null;
    /** The test-set check (`testSet` of the export), when asked for. */
    testSet?: {
      dataset: string;
      threshold: number;
      hashDuplicates: number;
      nearDuplicates: number;
      embeddingCheck: string | null;
    };
  };
  /** Images from the exported dataset and from the pool (absent in old results). */
  sources?: { dataset: number; pool: number };
  missingSources?: { count: number; paths: string[] };
  seconds: number;
}

export function ExportSummary({ result }: { result: ExportResultView }) {
  const folders = Object.entries(result.folders).filter(([name]) => !result.manifests.includes(name));
  const warnings = [
    result.leakage.warning,
    result.missingSources?.count
      ? `${result.missingSources.count} source image${result.missingSources.count > 1 ? 's are' : ' is'} missing on disk and ${result.missingSources.count > 1 ? 'were' : 'was'} left out: ${result.missingSources.paths.join(', ')}${result.missingSources.count > result.missingSources.paths.length ? ' …' : ''}`
      : null,
  ].filter((w): w is string => !!w);
  return (
    <section className="export-summary" aria-label="Export result">
      <p className="export-headline">
        {result.files.toLocaleString()} file{result.files === 1 ? '' : 's'} from{' '}
        {result.images.toLocaleString()} image{result.images === 1 ? '' : 's'}
        {result.seconds > 0 && <span className="muted"> · {result.seconds.toFixed(1)} s</span>}
      </p>
      <table className="export-folders" aria-label="Folders">
        <tbody>
          {folders.map(([name, count]) => (
            <tr key={name}>
              <th>
                <code>{name}/</code>
              </th>
              <td>{count.toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {result.sources && result.sources.pool > 0 && (
        <p aria-label="Sources">
          {result.sources.dataset.toLocaleString()} from the dataset, {result.sources.pool.toLocaleString()}{' '}
          from the pool (each manifest row names its source)
        </p>
      )}
      {result.leakage.testSet && <TestSetCheck check={result.leakage.testSet} />}
      <p>
        Manifests: {result.manifests.length ? result.manifests.map((m) => <code key={m}>{m} </code>) : 'none'}
      </p>
      {warnings.length === 0 ? (
        <p className="ok">No warnings: nothing from the evaluation split, no source missing.</p>
      ) : (
        <ul className="warnings" aria-label="Warnings">
          {warnings.map((w) => (
            <li key={w} className="error">
              {w}
            </li>
          ))}
        </ul>
      )}
      <p className="export-destination">
        In <code title={result.out}>{result.out}</code>
        {window.vswShell?.showFolder && (
          <button className="small" onClick={() => void window.vswShell!.showFolder(result.out)}>
            Open folder
          </button>
        )}
      </p>
    </section>
  );
}

function TestSetCheck({ check }: { check: NonNullable<ExportResultView['leakage']['testSet']> }) {
  return (
    <p aria-label="Test-set check" className={check.hashDuplicates + check.nearDuplicates ? 'error' : 'ok'}>
      Against the test set {check.dataset}: {check.hashDuplicates} same file (content hash),{' '}
      {check.nearDuplicates} near-duplicate{check.nearDuplicates === 1 ? '' : 's'} (embedding cosine ≥{' '}
      {check.threshold})
      {check.embeddingCheck && <span className="muted"> · no embedding check: {check.embeddingCheck}</span>}
    </p>
  );
}
