// Runs every *.test.ts under src/ and test/ with node's test runner through tsx. Node 20's --test takes no globs,
// so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts') && !join(e.parentPath, e.name).includes('node_modules'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : [...testFiles('src'), ...testFiles('test')];
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
