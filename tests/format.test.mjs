// Numbers the page writes: `grouped` sets thousands apart as `toLocaleString('en-US')` does, and
// the page never calls `toLocaleString` or `Intl` itself. Their first use wakes the browser's
// locale data and blocked the page's thread for about 20 ms (measured in Chromium), which on a
// busy machine made a task of the Why-this-answer scene run 120 ms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { grouped } from '../www/js/dom.js';

const www = join(dirname(fileURLToPath(import.meta.url)), '..', 'www', 'js');

test('grouped writes what toLocaleString("en-US") writes for integers and decimals', () => {
  const values = [0, 7, -7, 999, 1000, -1000, 12345, 110048, 999999, 1000000, 1234567890, 2 ** 53 - 1, -98765, 12.5, 1234.25, -1234.5];
  for (const v of values) assert.equal(grouped(v), v.toLocaleString('en-US', { maximumFractionDigits: 20 }), `grouped(${v})`);
});

test('the page calls neither toLocaleString nor Intl', () => {
  const files = [];
  const walk = (d) => { for (const f of readdirSync(d)) { const p = join(d, f); if (statSync(p).isDirectory()) walk(p); else if (p.endsWith('.js')) files.push(p); } };
  walk(www);
  assert.ok(files.length > 20, `found the page's scripts (${files.length})`);
  const found = files.flatMap((p) => readFileSync(p, 'utf8').split('\n').map((l, i) => [p, i + 1, l])
    .filter(([, , l]) => /toLocaleString|\bIntl\./.test(l) && !/^\s*(\/\/|\*)/.test(l)).map(([p, i]) => `${p}:${i}`));
  assert.deepEqual(found, []);
});
