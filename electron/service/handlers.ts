// Binds every protocol method to the workstation service that answers it.
import type { Handlers } from '../contract/rpc';
import type { ServiceEvent } from '../contract/protocol';
import type { Workstation } from '../workstation/workstation';
import { resumeInterrupted } from '../workstation/jobs/startJobs';
import { coreHandlers } from './coreHandlers';
import { reviewHandlers } from './reviewHandlers';
import { similarHandlers } from './similarHandlers';

export function createHandlers(
  workstation: Workstation,
  shell: 'electron' | 'serve',
  version: string,
  emit: (event: ServiceEvent) => void,
): Handlers {
  workstation.onEvent(emit);
  // Jobs whose process died (SIGKILL, power loss) continue when the service starts.
  setImmediate(() => void resumeInterrupted(workstation.jobHost));
  return {
    'app.info': () => ({
      version,
      dataDir: workstation.options.dataDir,
      reviewer: workstation.options.reviewer,
      shell,
    }),
    'datasets.list': () => workstation.listDatasets(),
    'datasets.add': async ({ path, name, mapping, masks }) => {
      const result = await workstation.addDataset(
        path,
        name,
        (done, total) => emit({ type: 'progress', job: `import:${path}`, done, total }),
        mapping,
        masks,
      );
      emit({ type: 'datasetsChanged' });
      return result;
    },
    'datasets.lastImport': ({ datasetId }) => workstation.lastImport(datasetId),
    'images.page': ({ datasetId, after, limit }) => workstation.imagesPage(datasetId, after, limit),
    ...coreHandlers(workstation, emit),
    ...reviewHandlers(workstation),
    ...similarHandlers(workstation, emit),
  };
}
