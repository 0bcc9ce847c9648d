// Runs work over batches with its stages overlapped: while ONNX Runtime computes batch k (in its
// own threads), the next batch is read and decoded and the previous one's results are written.
// At most one batch waits in each stage, so memory stays bounded.

export interface PipelineStages<Item, Loaded, Computed> {
  /** Reads and decodes a batch; should not reject (record per-item failures instead). */
  load(batch: Item[]): Promise<Loaded>;
  compute(loaded: Loaded): Promise<Computed>;
  write(computed: Computed): Promise<void>;
  /** Called after a batch is written, with its size. */
  done?(count: number): void;
}

export async function runPipelined<Item, Loaded, Computed>(
  items: Item[],
  batchSize: number,
  stages: PipelineStages<Item, Loaded, Computed>,
): Promise<void> {
  const batches: Item[][] = [];
  for (let i = 0; i < items.length; i += batchSize) batches.push(items.slice(i, i + batchSize));
  let writing: Promise<void> = Promise.resolve();
  let next = batches.length ? stages.load(batches[0]) : undefined;
  for (let b = 0; b < batches.length; b++) {
    const loaded = await next!;
    next = b + 1 < batches.length ? stages.load(batches[b + 1]) : undefined;
    const computed = await stages.compute(loaded);
    await writing;
    const size = batches[b].length;
    writing = stages.write(computed).then(() => stages.done?.(size));
    writing.catch(() => undefined); // awaited (and rethrown) before the next write or at the end
  }
  await writing;
}
