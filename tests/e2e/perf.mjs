// Dashboard budgets of issue 6 that are not pass/fail tests: the map with 5,000 live markers
// (frame rate while 1,000 readings/s arrive) and the memory of a kiosk page under live updates.
// Usage: node tests/e2e/perf.mjs            (markers + a 2-minute kiosk soak)
//        IOC_E2E_SOAK_MIN=60 node tests/e2e/perf.mjs   (the one-hour soak)
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary, startServer } from './server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { chromium } = createRequire(join(root, 'web/package.json'))('playwright-core');
const artifacts = process.env.IOC_E2E_ARTIFACTS ?? join(root, 'build/e2e-artifacts');
mkdirSync(artifacts, { recursive: true });
const MARKERS = Number(process.env.IOC_E2E_MARKERS ?? 5000);
const SOAK_MIN = Number(process.env.IOC_E2E_SOAK_MIN ?? 2);

const server = await startServer({ binary: findBinary(root), logDir: artifacts });
const http = async (path, { token, method = 'GET', json } = {}) => {
  const res = await fetch(server.url + path, {
    method,
    headers: { ...(json ? { 'Content-Type': 'application/json' } : {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: json ? JSON.stringify(json) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
};
const { operator } = server.accounts;
const token = (await http('/api/v1/auth/login', { method: 'POST', json: { username: operator.user, password: operator.password } })).token;
const me = await http('/api/v1/auth/me', { token });

// 5,000 waste bins spread over Huế, then a driver updating 1,000 of them per second.
const id = (i) => `urn:ngsi-ld:WasteContainer:perf-${i}`;
const rnd = (a, b) => a + Math.random() * (b - a);
for (let start = 0; start < MARKERS; start += 500) {
  const batch = [];
  for (let i = start; i < Math.min(MARKERS, start + 500); i++) {
    batch.push({
      id: id(i),
      type: 'WasteContainer',
      location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [rnd(107.5, 107.68), rnd(16.4, 16.54)] } },
      fillingLevel: { type: 'Property', value: Math.random() },
    });
  }
  await http('/ngsi-ld/v1/entityOperations/upsert', { token, method: 'POST', json: batch });
}
let driving = true;
const driver = (async () => {
  let sent = 0;
  while (driving) {
    const batch = [];
    for (let k = 0; k < 200; k++) batch.push({ id: id(Math.floor(Math.random() * MARKERS)), type: 'WasteContainer', fillingLevel: { type: 'Property', value: Math.random() } });
    await http('/ngsi-ld/v1/entityOperations/upsert?options=update', { token, method: 'POST', json: batch });
    sent += batch.length;
    await new Promise((r) => setTimeout(r, 200));
  }
  return sent;
})();

const browser = await chromium.launch({ executablePath: process.env.IOC_E2E_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
await context.addInitScript((s) => sessionStorage.setItem('cityioc.session', s), JSON.stringify({ token, me }));

async function frames(page, seconds) {
  return page.evaluate(
    (ms) =>
      new Promise((done) => {
        const gaps = [];
        let last = performance.now();
        const end = last + ms;
        const tick = (t) => {
          gaps.push(t - last);
          last = t;
          if (t < end) requestAnimationFrame(tick);
          else {
            gaps.sort((a, b) => a - b);
            done({ fps: gaps.length / (ms / 1000), p95: gaps[Math.floor(gaps.length * 0.95)], max: gaps[gaps.length - 1] });
          }
        };
        requestAnimationFrame(tick);
      }),
    seconds * 1000,
  );
}
const fmt = (f) => `${f.fps.toFixed(1)} fps, frame p95 ${f.p95.toFixed(1)} ms, worst ${f.max.toFixed(0)} ms`;

const page = await context.newPage();
await page.goto(`${server.url}/#/map`);
await page.locator('.map-screen [data-live="open"], [data-live="open"]').first().waitFor({ timeout: 30000 });
await page.waitForFunction((n) => document.querySelector('.map-controls')?.textContent?.includes(n), new Intl.NumberFormat('vi-VN').format(MARKERS + 75), { timeout: 60000 }).catch(() => undefined);
console.log(`perf: ${MARKERS} extra markers, ~1,000 readings/s`);
console.log(`  map, city view (clustered):   ${fmt(await frames(page, 10))}`);
// Every marker drawn (no clustering), then one bin's neighbourhood at zoom 15.
await page.goto('about:blank');
await page.goto(`${server.url}/#/map?cluster=0`);
await page.locator('[data-live="open"]').first().waitFor({ timeout: 30000 });
console.log(`  map, all markers drawn:       ${fmt(await frames(page, 10))}`);
await page.screenshot({ path: join(artifacts, 'perf-map-5000.png') });
await page.goto(`${server.url}/#/map?id=${encodeURIComponent(id(0))}`);
await page.locator('.sensor-details').waitFor({ timeout: 30000 });
console.log(`  map, zoom 15 with details:   ${fmt(await frames(page, 10))}`);


// Kiosk soak: heap after GC, once a minute.
const kiosk = await context.newPage();
await page.close();
await kiosk.goto(`${server.url}/?kiosk=1&screens=overview,map&interval=20#/overview`);
const cdp = await context.newCDPSession(kiosk);
await cdp.send('HeapProfiler.enable');
const heap = async () => {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'JSHeapUsedSize').value / 1048576;
};
await cdp.send('Performance.enable');
const samples = [];
for (let m = 0; m <= SOAK_MIN; m++) {
  if (m > 0) await kiosk.waitForTimeout(60000);
  samples.push(await heap());
  console.log(`  kiosk heap after ${m} min: ${samples[samples.length - 1].toFixed(1)} MB`);
}
driving = false;
const sent = await driver;
console.log(`perf: kiosk heap ${samples[0].toFixed(1)} → ${samples[samples.length - 1].toFixed(1)} MB over ${SOAK_MIN} min; ${sent} readings sent`);
await browser.close();
await server.stop();
