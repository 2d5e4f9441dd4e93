// Huế's ward polygons, the offline base map (public/geo/hue-wards.json, generated at build time
// from data/geo/hue_wards_2025.geojson by scripts/wards.mjs).
import type { FeatureCollection, MultiPolygon } from 'geojson';

export interface WardProps {
  code: string;
  name: string;
  nameEn: string;
  fullName: string;
  fullNameEn: string;
  areaKm2: number;
}
export type Wards = FeatureCollection<MultiPolygon, WardProps>;

let promise: Promise<Wards> | null = null;
export function loadWards(): Promise<Wards> {
  promise ??= fetch(`${import.meta.env.BASE_URL}geo/hue-wards.json`).then((r) => {
    if (!r.ok) throw new Error(`wards: HTTP ${r.status}`);
    return r.json() as Promise<Wards>;
  });
  return promise;
}
