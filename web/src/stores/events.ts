// The latest events seen on the live stream (alerts opened or changed, incidents, citizen reports), newest first.
import { signal } from '@preact/signals';

export interface FeedEvent {
  kind: 'alert' | 'incident' | 'report';
  id: string;
  title: string;
  level: string;
  status: string;
  at: number;
}

export const events = signal<FeedEvent[]>([]);
const MAX = 30;

export function pushEvent(e: FeedEvent): void {
  events.value = [e, ...events.value.filter((x) => !(x.id === e.id && x.status === e.status))].slice(0, MAX);
}
