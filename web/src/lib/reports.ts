// Citizen reports (phản ánh hiện trường, issue 5): the native API's shapes and calls, shared by
// the public portal and the staff screens. Server: src/api/report_routes.cc.
import { api, qs } from './api';
import { t, lang } from './i18n';
import type { Key } from './strings';

export interface Question {
  code: string;
  datatype: string; // string | text | number | datetime | singlevaluelist | multivaluelist
  required: boolean;
  description: string;
  description_en: string;
  order: number;
  values: { key: string; name: string }[];
}
export interface ReportService {
  code: string;
  name: string;
  name_en: string;
  description: string;
  description_en: string;
  group: string;
  keywords: string[];
  handled: boolean;
  redirect: string;
  redirect_en: string;
  hotline: string;
  sla_working_days: number;
  questions: Question[];
}

export type ReportStatus = 'new' | 'triaged' | 'assigned' | 'in_progress' | 'resolved' | 'closed';
export const REPORT_STATUSES: ReportStatus[] = ['new', 'triaged', 'assigned', 'in_progress', 'resolved', 'closed'];

export interface ReportUpdate {
  update_id: string;
  at: string;
  kind: string;
  status: ReportStatus;
  extended_status?: string;
  text: string;
  photos: number[];
  actor?: string;
  public?: boolean;
}
export interface ReportPhoto {
  n: number;
  url: string | null;
  source: 'citizen' | 'agency';
  redacted?: boolean;
}
/** The public view (track, live stream); staff get a few more fields. */
export interface CitizenReport {
  id: string;
  service_code: string;
  service_name: string;
  service_name_en?: string;
  description: string;
  address: string;
  ward_code: string;
  unit_code?: string;
  status: ReportStatus;
  open311_status: string;
  extended_status: string;
  resolution: 'fixed' | 'not_fixed' | 'not_responsible' | 'duplicate' | null;
  resolution_reason: string;
  agency: string;
  agency_answer: string;
  duplicate_of?: string;
  emergency?: boolean;
  created_at: string;
  updated_at: string;
  due_at: string | null;
  resolved_at: string | null;
  overdue: boolean;
  rating: number | null;
  really_fixed: boolean | null;
  reopen_count: number;
  followers: number;
  photos: ReportPhoto[];
  timeline: ReportUpdate[];
  location: { lat: number; long: number } | null;
  can_rate?: boolean;
  tracking_code?: string;
  hotline?: string;
  // staff view
  attributes?: Record<string, unknown>;
  channel?: string;
  hidden?: boolean;
  incident_id?: string;
  sla_days?: number;
  anonymous?: boolean;
}

export interface Duplicate {
  id: string;
  distance_m: number;
  description: string;
  status: ReportStatus;
  created_at: string;
  followers: number;
}

export interface KpiRow {
  key?: string;
  received: number;
  resolved: number;
  open_overdue: number;
  on_time: number;
  on_time_pct: number | null;
  rated: number;
  satisfaction_pct: number | null;
  reopened: number;
  reopen_rate_pct: number | null;
  median_hours_to_resolve: number | null;
}
export interface Kpis {
  group_by: string;
  total: KpiRow;
  groups: KpiRow[];
}

export const statusLabel = (s: string) => (REPORT_STATUSES as string[]).includes(s) ? t(`rst.${s}` as Key) : s;
export const resolutionLabel = (r: string | null) => (r ? t(`rres.${r}` as Key) : '—');
export const serviceName = (s: ReportService) => (lang.value === 'en' && s.name_en ? s.name_en : s.name);
export const reportServiceName = (r: CitizenReport) => (lang.value === 'en' && r.service_name_en ? r.service_name_en : r.service_name);
export const isOpenReport = (r: { status: string }) => r.status !== 'resolved' && r.status !== 'closed';

let services: Promise<ReportService[]> | null = null;
export function loadServices(): Promise<ReportService[]> {
  services ??= api<{ services: ReportService[] }>('/api/v1/report-services', { anonymous: true }).then(
    (r) => r.services,
    (e) => {
      services = null;
      throw e;
    },
  );
  return services;
}

export const track = (code: string) => api<CitizenReport>(`/api/v1/reports/track/${encodeURIComponent(code)}`, { anonymous: true });
export const rate = (code: string, body: { rating: number; fixed: boolean; comment?: string }) =>
  api<CitizenReport>(`/api/v1/reports/track/${encodeURIComponent(code)}/rate`, { json: body, anonymous: true });
export const duplicates = (service_code: string, lat: number, long: number, signal?: AbortSignal) =>
  api<{ items: Duplicate[] }>(`/api/v1/reports/duplicates${qs({ service_code, lat, long, radius: 200 })}`, { anonymous: true, ...(signal ? { signal } : {}) }).then((r) => r.items);

/** Start of today in Huế (UTC+7, no daylight saving) as RFC 3339. */
export function todayStart(now = Date.now()): string {
  const local = new Date(now + 7 * 3600_000);
  return `${local.toISOString().slice(0, 10)}T00:00:00+07:00`;
}
export const kpis = (p: { from?: string; to?: string; group_by: 'agency' | 'ward' | 'service' | 'none'; unit?: string }) =>
  api<Kpis>(`/api/v1/reports/kpis${qs(p)}`);
