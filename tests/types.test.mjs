// The JS API's TypeScript declarations (crate/js/api.d.ts) type-check under `--strict`, with a
// typed use of every export (types/usage.ts), and refuse each misuse marked `@ts-expect-error`
// there: with the marks removed, tsc reports an error on every marked line. Needs no page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const types = join(here, 'types');
const api = join(here, '..', 'crate', 'js', 'api.js');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const MARK = '// @ts-expect-error';

/** Runs the local tsc with `args`: its exit code and output. */
function runTsc(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

/** Type-checks `source` as a copy of usage.ts (same compiler options) in a scratch directory. */
async function checkCopy(source) {
  const dir = await mkdtemp(join(tmpdir(), 'convscope-types-'));
  try {
    const from = JSON.stringify(api).slice(1, -1);
    await writeFile(join(dir, 'usage.ts'), source.replaceAll('../../crate/js/api.js', from));
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
      extends: join(types, 'tsconfig.json'),
      files: ['usage.ts', join(here, '..', 'crate', 'js', 'api.d.ts')],
    }));
    return await runTsc(['-p', dir, '--noEmit', '--pretty', 'false']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The 1-based numbers of the lines right after each `@ts-expect-error` mark. */
function markedLines(source) {
  return source.split('\n').flatMap((line, i) => (line.trim().startsWith(MARK) ? [i + 2] : []));
}

test('api.d.ts and a typed use of every export type-check under --strict', async () => {
  const { code, out } = await runTsc(['-p', types, '--noEmit', '--pretty', 'false']);
  assert.equal(code, 0, `tsc -p tests/types failed:\n${out}`);
});

test('every misuse marked @ts-expect-error is a type error on its own line', async () => {
  const source = await readFile(join(types, 'usage.ts'), 'utf8');
  const lines = markedLines(source);
  assert.ok(lines.length >= 10, `only ${lines.length} marked misuses`);
  // The marks become plain comments: each line after one must now be reported.
  const { code, out } = await checkCopy(source.replaceAll(MARK, '// (was expected to fail)'));
  assert.notEqual(code, 0, 'tsc passed with every @ts-expect-error removed');
  const reported = new Set([...out.matchAll(/usage\.ts\((\d+),\d+\): error/g)].map((m) => Number(m[1])));
  const missed = lines.filter((l) => !reported.has(l));
  assert.deepEqual(missed, [], `no type error on these lines of usage.ts:\n${out}`);
  const stray = [...reported].filter((l) => !lines.includes(l));
  assert.deepEqual(stray, [], `type errors on unmarked lines:\n${out}`);
});

test('a misspelt conv2d option fails to type-check, naming the option', async () => {
  const source = await readFile(join(types, 'usage.ts'), 'utf8');
  const misspelt = source.split('\n').findIndex((l) => l.includes('{ strid: 2 }'));
  assert.ok(misspelt > 0 && source.split('\n')[misspelt - 1].includes(MARK), 'usage.ts lost its { strid: 2 } line');
  // Only that mark removed.
  const lines = source.split('\n');
  lines.splice(misspelt - 1, 1);
  const { code, out } = await checkCopy(lines.join('\n'));
  assert.notEqual(code, 0, 'conv2d(x, w, null, { strid: 2 }) type-checked');
  assert.match(out, /usage\.ts\(\d+,\d+\): error TS\d+: .*'strid' does not exist in type 'Conv2dOptions'/);
});
