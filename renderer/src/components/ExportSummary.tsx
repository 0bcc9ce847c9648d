// What an export wrote, in words: files and images, one line per folder, the manifests, the
// warnings (leakage into the evaluation split, sources missing on disk) and the destination, with
// a button that opens it in the file manager (Electron only).
export interface ExportResultView {
  out: string;
  images: number;
  files: number;
  folders: Record<string, number>;
  manifests: string[];
  leakage: { warning: string | null };
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
