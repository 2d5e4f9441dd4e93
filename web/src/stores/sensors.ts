// Sensors: every device entity of the city (NGSI-LD), loaded page by page, then kept current by
// the `entities` topic of the live stream. Values change often (5,000 markers × every few
// seconds), so the map listens to onSensorsChanged() for incremental updates instead of
// re-rendering; widgets read `sensorsVersion` (bumped at most once per frame).
import { signal } from '@preact/signals';
import { api, qs } from '../lib/api';
import { onTopic, resyncs } from '../lib/live';
import { shortName } from '../lib/http';
import { can } from '../lib/session';

export const SENSOR_TYPES = [
  'AirQualityObserved',
  'WaterObserved',
  'WaterQualityObserved',
  'Streetlight',
  'WasteContainer',
  'TrafficFlowObserved',
  'Device',
] as const;
export type SensorType = (typeof SENSOR_TYPES)[number];

export interface Sensor {
  id: string;
  type: string;
  lon: number | null;
  lat: number | null;
  ward: string;
  wardName: string;
  attrs: Record<string, unknown>;
  /** When this dashboard last received a change of this entity (ms). */
  updatedAt: number;
}

export const sensors = new Map<string, Sensor>();
export const sensorsVersion = signal(0);
export const sensorsLoadedAt = signal(0);
export const sensorsError = signal<unknown>(null);

type Listener = (changed: Sensor[]) => void;
const listeners = new Set<Listener>();
export function onSensorsChanged(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

let pending = new Map<string, Sensor>();
let scheduled = false;
function changed(s: Sensor): void {
  pending.set(s.id, s);
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    const batch = [...pending.values()];
    pending = new Map();
    listeners.forEach((l) => l(batch));
    sensorsVersion.value++;
  });
}

function applyAttrs(s: Sensor, attrs: Record<string, unknown>): void {
  for (const [rawName, value] of Object.entries(attrs)) {
    const name = shortName(rawName);
    if (name === 'location') {
      const c = (value as { coordinates?: unknown } | null)?.coordinates;
      if (Array.isArray(c) && typeof c[0] === 'number' && typeof c[1] === 'number') {
        s.lon = c[0];
        s.lat = c[1];
      }
    } else if (name === 'wardCode') {
      s.ward = String(value ?? '');
    } else if (name === 'areaServed') {
      s.wardName = String(value ?? '');
    }
    s.attrs[name] = value;
  }
}

type KeyValues = Record<string, unknown> & { id: string; type: string };

export async function loadSensors(): Promise<void> {
  if (!can('context:read')) return;
  const PAGE = 1000;
  try {
    const seen = new Set<string>();
    for (let offset = 0; ; offset += PAGE) {
      const page = await api<KeyValues[]>(
        `/ngsi-ld/v1/entities${qs({ type: SENSOR_TYPES.join(','), options: 'keyValues', limit: PAGE, offset })}`,
      );
      for (const e of page) {
        seen.add(e.id);
        let s = sensors.get(e.id);
        if (!s) {
          s = { id: e.id, type: shortName(e.type), lon: null, lat: null, ward: '', wardName: '', attrs: {}, updatedAt: 0 };
          sensors.set(e.id, s);
        }
        const { id: _id, type: _type, ...attrs } = e;
        applyAttrs(s, attrs);
        changed(s);
      }
      if (page.length < PAGE) break;
    }
    for (const id of [...sensors.keys()]) if (!seen.has(id)) sensors.delete(id);
    sensorsError.value = null;
    sensorsLoadedAt.value = Date.now();
  } catch (e) {
    sensorsError.value = e;
  }
}

onTopic('entities', (e) => {
  const d = e.data as { id?: string; type?: string; deleted?: boolean; attrs?: Record<string, unknown> };
  if (!d.id) return;
  if (d.deleted) {
    sensors.delete(d.id);
    sensorsVersion.value++;
    return;
  }
  const type = shortName(d.type ?? '');
  if (!(SENSOR_TYPES as readonly string[]).includes(type)) return;
  let s = sensors.get(d.id);
  if (!s) {
    s = { id: d.id, type, lon: null, lat: null, ward: '', wardName: '', attrs: {}, updatedAt: 0 };
    sensors.set(d.id, s);
  }
  applyAttrs(s, d.attrs ?? {});
  s.updatedAt = Date.now();
  changed(s);
});

let started = false;
/** Loads once, and again after every reconnection of the live stream. */
export function useSensorFeed(): void {
  if (started) return;
  started = true;
  void loadSensors();
  let first = true;
  resyncs.subscribe(() => {
    if (first) return void (first = false);
    void loadSensors();
  });
}

export function numberAttr(s: Sensor, name: string): number | null {
  const v = s.attrs[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
