// The JavaScript budget of issue 6: gzip size of what the browser loads for the first screen
// (the entry and its static imports, plus the overall-situation screen it imports at once),
// from Vite's manifest. Run after `npm run build`: `npm run size`. Exit 1 above the budget.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUDGET = 500 * 1024;
const dist = join(dirname(fileURLToPath(import.meta.url)), '../dist');
const manifest = JSON.parse(readFileSync(join(dist, '.vite/manifest.json'), 'utf8'));

function closure(keys) {
  const seen = new Set();
  const walk = (k) => {
    if (seen.has(k)) return;
    seen.add(k);
    for (const i of manifest[k]?.imports ?? []) walk(i);
  };
  keys.forEach(walk);
  return [...seen].map((k) => manifest[k].file).filter((f) => f.endsWith('.js'));
}
const gz = (f) => gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

function report(name, keys) {
  const files = closure(keys);
  let raw = 0;
  let zipped = 0;
  for (const f of files) {
    raw += readFileSync(join(dist, f)).length;
    zipped += gz(f);
  }
  console.log(`${name}: ${files.length} files, ${kb(raw)} raw, ${kb(zipped)} gzip`);
  return zipped;
}

const first = report('first load (overview)', ['index.html', 'src/screens/Overview.tsx']);
report('video wall (?kiosk=1)', ['index.html', 'src/screens/Kiosk.tsx']);
const all = Object.values(manifest).filter((c) => c.file.endsWith('.js'));
console.log(`all JavaScript: ${all.length} files, ${kb(all.reduce((n, c) => n + gz(c.file), 0))} gzip`);
console.log(`budget: ${kb(BUDGET)} gzip for the first load → ${first <= BUDGET ? 'OK' : 'OVER'}`);
process.exit(first <= BUDGET ? 0 : 1);
