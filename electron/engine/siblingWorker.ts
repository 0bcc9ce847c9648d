// Worker threads on a module that sits beside the code starting them.
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * A worker on `name` in the folder of `callerFile` (pass `__filename`): the built .js file, or,
 * when run from source (tests), the .ts file through tsx's loader, which the worker needs too.
 */
export function startSiblingWorker(callerFile: string, name: string): Worker {
  const ext = path.extname(callerFile);
  const file = path.join(path.dirname(callerFile), `${name}${ext}`);
  return ext === '.ts'
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true })
    : new Worker(file);
}
