// The `vsw` command line: the workstation's services without a window. Exit codes: 0 success,
// 2 usage error, 1 failure, with the reason on stderr.
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Help, type Option } from 'commander';
import { appVersion } from '../service/version';
import { UsageError } from './errors';

/** Every file in commands/ registers one command (or a group). */
function registerCommands(program: Command): void {
  const dir = path.join(__dirname, 'commands');
  for (const file of fs.readdirSync(dir).sort()) {
    if (!/\.(js|ts)$/.test(file) || file.endsWith('.d.ts')) continue;
    const module = require(path.join(dir, file)) as { register?: (program: Command) => void };
    module.register?.(program);
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('vsw')
    .description(
      'ViT Saliency Workstation: find, explain, tag and export a vision transformer’s misdetections',
    )
    .version(appVersion())
    .exitOverride()
    .showHelpAfterError('(run `vsw --help` for usage)')
    // Every command's --help marks the options it cannot run without (subcommands inherit this).
    .configureHelp({
      optionDescription(this: Help, option: Option) {
        const text = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `(required) ${text}` : text;
      },
    });
  registerCommands(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
      )
        return 0;
      return 2; // commander already printed the reason
    }
    if (error instanceof UsageError) {
      console.error(`vsw: ${error.message}`);
      return 2;
    }
    console.error(`vsw: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    if (code !== 0) process.exit(code);
  });
}
