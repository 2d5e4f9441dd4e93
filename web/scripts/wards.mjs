// Copies Huế's ward polygons (data/geo/hue_wards_2025.geojson, shipped with the server) into
// public/geo/ as the dashboard's offline base map, simplified (Douglas–Peucker, ~10 m) and with
// only the properties the dashboard shows: 2.7 MB → a few hundred KB. Runs before dev and build.
import { readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = resolve(here, '../../data/geo/hue_wards_2025.geojson');
const out = resolve(here, '../public/geo/hue-wards.json');
const TOLERANCE = 0.0001; // degrees, about 11 m at Huế's latitude

try {
  if (statSync(out).mtimeMs >= statSync(src).mtimeMs && statSync(out).mtimeMs >= statSync(fileURLToPath(import.meta.url)).mtimeMs) {
    process.exit(0);
  }
} catch { /* not generated yet */ }

function sqSegDist(p, a, b) {
  let [x, y] = a;
  let dx = b[0] - x;
  let dy = b[1] - y;
  if (dx !== 0 || dy !== 0) {
    const t = ((p[0] - x) * dx + (p[1] - y) * dy) / (dx * dx + dy * dy);
    if (t > 1) { x = b[0]; y = b[1]; } else if (t > 0) { x += dx * t; y += dy * t; }
  }
  dx = p[0] - x;
  dy = p[1] - y;
  return dx * dx + dy * dy;
}

function simplify(points) {
  if (points.length <= 4) return points;
  const keep = new Uint8Array(points.length);
  keep[0] = keep[points.length - 1] = 1;
  const stack = [[0, points.length - 1]];
  const tol = TOLERANCE * TOLERANCE;
  while (stack.length) {
    const [first, last] = stack.pop();
    let max = 0;
    let index = -1;
    for (let i = first + 1; i < last; i++) {
      const d = sqSegDist(points[i], points[first], points[last]);
      if (d > max) { max = d; index = i; }
    }
    if (max > tol) {
      keep[index] = 1;
      stack.push([first, index], [index, last]);
    }
  }
  const outRing = points.filter((_, i) => keep[i]);
  return outRing.length >= 4 ? outRing : points;
}

const round = (c) => [Math.round(c[0] * 1e5) / 1e5, Math.round(c[1] * 1e5) / 1e5];
const fc = JSON.parse(readFileSync(src, 'utf8'));
const features = fc.features.map((f) => {
  const g = f.geometry;
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  const simplified = polys.map((poly) => poly.map((ring) => simplify(ring).map(round)));
  const p = f.properties;
  return {
    type: 'Feature',
    id: p.code,
    properties: { code: p.code, name: p.name, nameEn: p.nameEn, fullName: p.fullName, fullNameEn: p.fullNameEn, areaKm2: p.areaKm2 },
    geometry: { type: 'MultiPolygon', coordinates: simplified },
  };
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ type: 'FeatureCollection', features }));
console.log(`wards: ${features.length} wards → ${out} (${Math.round(statSync(out).size / 1024)} KB)`);
