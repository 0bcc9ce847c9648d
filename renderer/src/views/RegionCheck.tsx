// "Check this region": hides the top 10% of the map on screen (mean-filled) and shows p(target)
// before and after, with a random region and the map's bottom 10% for contrast. The service keeps
// every check with the image (the grid filters "checked: region decisive").
import { useEffect, useState } from 'react';
import type { Result } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';
import type { Method } from '../state/settings';

type Check = Result<'region.check'>;

export function RegionCheck({
  imageId,
  runId,
  method,
  target,
}: {
  imageId: number;
  runId: number;
  method: Method;
  target: string;
}) {
  const { client } = useConnection();
  const key = `${imageId}|${runId}|${method}|${target}`;
  const [state, setState] = useState<{ key: string; check?: Check; error?: string; busy?: boolean } | null>(
    null,
  );
  useEffect(() => {
    let live = true;
    // The latest stored check of this map, if any.
    void client.call('region.list', { imageId }).then((checks) => {
      const last = checks.find((c) => c.runId === runId && c.method === method && c.target === target);
      if (live && last) setState((s) => (s?.key === key && s.check ? s : { key, check: last }));
    });
    return () => {
      live = false;
    };
  }, [client, imageId, runId, method, target, key]);
  const current = state?.key === key ? state : null;
  const run = () => {
    setState({ key, busy: true });
    client
      .call('region.check', { imageId, runId, method, target })
      .then((check) => setState({ key, check }))
      .catch((e: Error) => setState({ key, error: e.message }));
  };
  const c = current?.check;
  const pct = c ? Math.round(c.fraction * 100) : 10;
  return (
    <section className="region-check" aria-label="Region check">
      <h3>Causal check</h3>
      <button onClick={run} disabled={current?.busy}>
        {current?.busy ? 'Checking…' : 'Check this region'}
      </button>
      {current?.error && <p className="error">{current.error}</p>}
      {c && (
        <>
          <p aria-label="Region check result">
            {c.target} <span data-testid="check-before">{c.before.toFixed(3)}</span> →{' '}
            <span data-testid="check-after">{c.after.toFixed(3)}</span> when the highlighted {pct}% is hidden
            (random region: <span data-testid="check-random">{c.random.toFixed(3)}</span>; least highlighted{' '}
            {pct}%: <span data-testid="check-bottom">{c.bottom.toFixed(3)}</span>)
          </p>
          <p className={c.decisive ? 'verdict decisive' : 'verdict muted'} data-testid="check-verdict">
            {c.decisive ? 'region decisive' : 'region not decisive'} · {c.method}
          </p>
        </>
      )}
    </section>
  );
}
