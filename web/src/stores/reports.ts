// Citizen reports for staff: the open ones in triage order (GET /api/v1/reports?sort=triage),
// kept current by the `reports` topic; today's figures for the overview (KPIs since 00:00 in
// Huế), refreshed when a report arrives or is resolved.
import { signal, computed } from '@preact/signals';
import { api, qs } from '../lib/api';
import { onTopic, resyncs } from '../lib/live';
import { can } from '../lib/session';
import { isOpenReport, kpis, todayStart, type CitizenReport, type KpiRow } from '../lib/reports';
import { pushEvent } from './events';

const byId = signal<Map<string, CitizenReport>>(new Map());
export const reportsLoadedAt = signal(0);
export const reportsError = signal<unknown>(null);
export const reportsTotal = signal(0);

const RANK = (r: CitizenReport) => (r.status === 'new' ? 0 : r.overdue ? 1 : r.status === 'triaged' ? 2 : 3);
/** Open reports: new first, then overdue, then not yet with an agency; emergencies, then oldest. */
export const openReports = computed(() =>
  [...byId.value.values()]
    .filter(isOpenReport)
    .sort((a, b) => RANK(a) - RANK(b) || Number(!!b.emergency) - Number(!!a.emergency) || a.created_at.localeCompare(b.created_at)),
);

export function upsertReport(r: CitizenReport): void {
  const m = new Map(byId.value);
  const known = m.get(r.id);
  // Live events carry the public view: keep the staff-only fields we already have.
  m.set(r.id, known ? { ...known, ...r } : r);
  byId.value = m;
}

export async function loadReports(): Promise<void> {
  if (!can('reports:read')) return;
  try {
    const r = await api<{ total: number; items: CitizenReport[] }>(`/api/v1/reports${qs({ sort: 'triage', limit: 500 })}`);
    byId.value = new Map(r.items.map((i) => [i.id, i]));
    reportsTotal.value = r.total;
    reportsError.value = null;
    reportsLoadedAt.value = Date.now();
  } catch (e) {
    reportsError.value = e;
  }
}

export const getReport = (id: string) => api<CitizenReport>(`/api/v1/reports/${encodeURIComponent(id)}`);

export async function reportAction(id: string, action: string, body: Record<string, unknown> = {}): Promise<CitizenReport> {
  const r = await api<CitizenReport>(`/api/v1/reports/${encodeURIComponent(id)}/${action}`, { json: body });
  upsertReport(r);
  return r;
}

// Today's figures (overview).
export const reportsToday = signal<KpiRow | null>(null);
export const reportsTodayAt = signal(0);
let todayTimer = 0;
export async function loadToday(): Promise<void> {
  if (!can('reports:read')) return;
  try {
    const k = await kpis({ from: todayStart(), group_by: 'none' });
    reportsToday.value = k.total;
    reportsTodayAt.value = Date.now();
  } catch {
    /* the figure shows as stale */
  }
}
function refreshTodaySoon(): void {
  if (todayTimer) return;
  todayTimer = window.setTimeout(() => {
    todayTimer = 0;
    void loadToday();
  }, 1500);
}

onTopic('reports', (e) => {
  const r = e.data as unknown as CitizenReport;
  if (!r || typeof r.id !== 'string') return;
  const known = byId.value.get(r.id);
  upsertReport(r);
  if (!known || known.status !== r.status) {
    pushEvent({ kind: 'report', id: r.id, title: `${r.service_name}: ${r.description.slice(0, 80)}`, level: r.emergency ? 'high' : 'low', status: r.status, at: Date.now() });
  }
  refreshTodaySoon();
});

let started = false;
export function useReportFeed(): void {
  if (started) return;
  started = true;
  void loadReports();
  resyncs.subscribe((n) => n > 0 && void loadReports());
}

let startedToday = false;
export function useReportsToday(): void {
  if (startedToday) return;
  startedToday = true;
  void loadToday();
  resyncs.subscribe((n) => n > 0 && void loadToday());
  // Overdue counts move with time, not only with events.
  window.setInterval(() => void loadToday(), 5 * 60_000);
}
