// `vsw serve`: the workstation for a browser, on loopback by default, behind a token.
import type { Command } from 'commander';
import { isLoopback, startServer } from '../../serve/server';
import { checkToken, newToken } from '../../serve/tokenAuth';
import { installCrashGuard } from '../../service/crashGuard';
import { UsageError } from '../errors';
import { resolveReviewer } from '../../workstation/settings/serviceSettings';
import { defaultReviewer, resolveDataDir } from '../../workstation/dataDir';
import { addDataDirOption, parseInteger, type DataDirFlags } from '../options';

interface ServeFlags extends DataDirFlags {
  host: string;
  port: number;
  token?: string;
  open?: string[];
}

export function register(program: Command): void {
  addDataDirOption(
    program
      .command('serve')
      .description('serve the workstation to a browser on this machine (token-protected)')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--port <n>', 'port; 0 picks a free one', parseInteger('--port', 0, 65535), 0)
      .option('--token <token>', 'access token (default: a new random one each start)')
      .option('--open <folder...>', 'import these folders before serving (used by `npm start` for the demo)'),
  ).action(async (flags: ServeFlags) => {
    const tokenCheck = flags.token === undefined ? {} : checkToken(flags.token);
    if (tokenCheck.error) throw new UsageError(tokenCheck.error);
    if (tokenCheck.warning) console.error(tokenCheck.warning);
    if (!isLoopback(flags.host)) {
      console.error(
        `warning: listening on ${flags.host}, beyond this machine's loopback: anyone who can reach it and has the token can read your datasets`,
      );
    }
    const dataDir = resolveDataDir(flags.dataDir);
    const server = await startServer({
      dataDir,
      reviewer: resolveReviewer(flags.reviewer, dataDir, defaultReviewer),
      host: flags.host,
      port: flags.port,
      token: flags.token ?? newToken(),
    });
    for (const folder of flags.open ?? []) {
      const { report } = await server.workstation.addDataset(folder, undefined);
      console.error(
        `imported ${folder}: ${report.added} new, ${report.unchanged} unchanged, ${report.skipped.length} skipped`,
      );
    }
    installCrashGuard();
    console.log(`Serving at ${server.url}`);
    const stop = () => {
      void server.close().then(() => process.exit(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
