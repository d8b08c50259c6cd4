// Where things are, independent of the directory the bench is started from.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BENCH_DIR = join(REPO_ROOT, 'bench');
/** Node arguments that let a child run TypeScript directly, as `npm run bench` itself does. */
export const TSX = ['--import', 'tsx'];
