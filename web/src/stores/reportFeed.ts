// Open citizen reports for the map, from the public GeoJSON feed
// (GET /api/v1/public/reports.geojson?status=open): markers and ward colouring. Reloaded (at most
// every 2 s) when the `reports` topic says something changed, and after every resubscription.
import { signal } from '@preact/signals';
import { api } from '../lib/api';
import { onTopic, resyncs } from '../lib/live';

export interface ReportFeature {
  type: 'Feature';
  id?: string;
  geometry: { type: 'Point'; coordinates: [number, number] } | null;
  properties: {
    id?: string;
    service_code: string;
    service_name: string;
    status: string;
    extended_status: string;
    ward_code: string;
    created_at: string;
    overdue: boolean;
  };
}

export const openReportFeatures = signal<ReportFeature[]>([]);
export const openReportsAt = signal(0);

export async function loadOpenReports(): Promise<void> {
  try {
    const fc = await api<{ features: ReportFeature[] }>('/api/v1/public/reports.geojson?status=open&limit=5000', { anonymous: true });
    openReportFeatures.value = fc.features ?? [];
    openReportsAt.value = Date.now();
  } catch {
    /* keep the last features; the widget shows its age */
  }
}

/** Open reports per ward code. */
export function reportsByWard(): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of openReportFeatures.peek()) {
    const w = f.properties.ward_code;
    if (w) out.set(w, (out.get(w) ?? 0) + 1);
  }
  return out;
}

let timer = 0;
onTopic('reports', () => {
  if (!started || timer) return;
  timer = window.setTimeout(() => {
    timer = 0;
    void loadOpenReports();
  }, 2000);
});

let started = false;
export function useOpenReportsFeed(): void {
  if (started) return;
  started = true;
  void loadOpenReports();
  resyncs.subscribe((n) => n > 0 && void loadOpenReports());
}
