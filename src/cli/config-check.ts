// `switchboard config check`: every problem with its YAML path and line, exit code 1 if there is any.

import { ConfigError, formatProblem, loadConfig } from '../config/load.ts';

export function checkConfig(path: string | undefined, env: NodeJS.ProcessEnv, print: (line: string) => void): number {
  try {
    const config = loadConfig(path, env);
    for (const warning of config.warnings) print(`warning: ${formatProblem(warning).trimStart()}`);
    print(`${config.source}: OK (${config.providers.size} provider(s), ${config.models.length} model(s))`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    print(err.message);
    return 1;
  }
}
