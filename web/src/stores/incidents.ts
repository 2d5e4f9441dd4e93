// Incidents (sự vụ) in triage order (GET /api/v1/incidents?sort=triage), kept current by the
// `incidents` topic.
import { signal, computed } from '@preact/signals';
import { api, qs } from '../lib/api';
import { onTopic, resyncs } from '../lib/live';
import { pushEvent } from './events';
import { can } from '../lib/session';

export interface SopStep {
  n: number;
  title: string;
  kind: string;
  mandatory: boolean;
  role: string | null;
  agency: string | null;
  status: 'open' | 'done';
  completed_by: string | null;
  completed_at_ms: number | null;
  checklist?: string[];
  fields?: { name: string; type: string; required: boolean; options?: string[] }[];
  note?: string;
}
export interface TimelineEntry {
  at: string;
  at_ms: number;
  type: string;
  actor: string;
  role: string;
  text: string;
}
export interface Incident {
  id: string;
  title: string;
  description: string;
  category: string;
  priority: 'critical' | 'high' | 'medium' | 'low';
  status: 'new' | 'assigned' | 'in_progress' | 'resolved' | 'closed' | 'cancelled';
  source: { kind: string; ref: string | null };
  address: string | null;
  ward_code: string | null;
  unit_code: string | null;
  agency: string | null;
  assignee: string | null;
  resolution: string | null;
  created_at: string;
  created_at_ms: number;
  updated_at_ms: number;
  location: { lon: number; lat: number } | null;
  sla: { due_at: string; due_at_ms: number; state: 'on_time' | 'due_soon' | 'overdue'; escalation_level: number } | null;
  sop: { title: string; steps: SopStep[]; progress: { done: number; total: number; mandatory_open: number } } | null;
  timeline?: TimelineEntry[];
}

const OPEN = new Set(['new', 'assigned', 'in_progress']);
const byId = signal<Map<string, Incident>>(new Map());
export const incidentsLoadedAt = signal(0);
export const incidentsError = signal<unknown>(null);

const PRIORITY = ['critical', 'high', 'medium', 'low'];
export const openIncidents = computed(() =>
  [...byId.value.values()]
    .filter((i) => OPEN.has(i.status))
    .sort((a, b) => PRIORITY.indexOf(a.priority) - PRIORITY.indexOf(b.priority) || b.created_at_ms - a.created_at_ms),
);
export const isOverdue = (i: Incident) => i.sla?.state === 'overdue';

export function upsertIncident(i: Incident): void {
  const m = new Map(byId.value);
  m.set(i.id, i);
  byId.value = m;
}

export async function loadIncidents(): Promise<void> {
  if (!can('incidents:read')) return;
  try {
    const r = await api<{ items: Incident[] }>(`/api/v1/incidents${qs({ sort: 'triage', limit: 500 })}`);
    byId.value = new Map(r.items.map((i) => [i.id, i]));
    incidentsError.value = null;
    incidentsLoadedAt.value = Date.now();
  } catch (e) {
    incidentsError.value = e;
  }
}

export async function getIncident(id: string): Promise<Incident> {
  return api<Incident>(`/api/v1/incidents/${encodeURIComponent(id)}`);
}

export async function incidentAction(id: string, action: string, body: Record<string, unknown>): Promise<Incident> {
  const i = await api<Incident>(`/api/v1/incidents/${encodeURIComponent(id)}/${action}`, { json: body });
  upsertIncident(i);
  return i;
}

onTopic('incidents', (e) => {
  const i = e.data as unknown as Incident;
  if (!i || typeof i.id !== 'string') return;
  const known = byId.value.get(i.id);
  upsertIncident(i);
  if (!known || known.status !== i.status) {
    pushEvent({ kind: 'incident', id: i.id, title: i.title, level: i.priority, status: i.status, at: Date.now() });
  }
});

let started = false;
export function useIncidentFeed(): void {
  if (started) return;
  started = true;
  void loadIncidents();
  resyncs.subscribe((n) => n > 0 && void loadIncidents());
}
