// The live stream (GET /api/v1/stream, WebSocket): authenticates with {"op":"auth"} (browsers
// cannot set headers on the upgrade), subscribes to the topics the user may read, reconnects with
// jittered back-off, and pings to notice a dead connection. After every (re)connection the
// `resyncs` counter goes up, so stores reload their snapshot and never miss what happened while
// the connection was down. Screens may ask for more topics while they are shown (`want`: the
// citizen portal's `notifications`); a connection with no topic at all stays open, unsubscribed.
import { signal } from '@preact/signals';
import { session, can } from './session';

export type LiveStatus = 'idle' | 'connecting' | 'open' | 'closed';
export interface LiveEvent {
  topic: string;
  type: string;
  key: string;
  at: string | number;
  data: Record<string, unknown>;
}
type Handler = (e: LiveEvent) => void;

export const liveStatus = signal<LiveStatus>('idle');
/** Bumped after each successful subscription: reload snapshots then. */
export const resyncs = signal(0);
/** When the stream last delivered anything (ms since epoch), per topic. */
export const lastEventAt = signal<Record<string, number>>({});
/** The topics the server accepted on the current connection (empty while disconnected). */
export const subscribedTopics = signal<ReadonlySet<string>>(new Set());

const handlers = new Map<string, Set<Handler>>();
let ws: WebSocket | null = null;
let retry = 0;
let retryTimer = 0;
let pingTimer = 0;
let pongDeadline = 0;
let wanted = false;
let authenticated = false;
let subscribedOnce = false;
/** Topics screens asked for (`want`), with how many ask for each. */
const extra = new Map<string, number>();

export function onTopic(topic: string, h: Handler): () => void {
  let set = handlers.get(topic);
  if (!set) handlers.set(topic, (set = new Set()));
  set.add(h);
  return () => set?.delete(h);
}

function topics(): string[] {
  const out: string[] = [];
  if (can('alerts:read')) out.push('alerts');
  if (can('incidents:read')) out.push('incidents');
  if (can('reports:read')) out.push('reports');
  if (can('context:read')) out.push('entities');
  for (const t of extra.keys()) if (!out.includes(t)) out.push(t);
  return out;
}

function send(msg: unknown): void {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

/** While the returned function is not called, the stream also follows `topic` (subscribed now if
 *  the connection is up, and again after every reconnection). */
export function want(topic: string): () => void {
  const n = extra.get(topic) ?? 0;
  extra.set(topic, n + 1);
  if (n === 0 && authenticated && !subscribedTopics.value.has(topic)) send({ op: 'subscribe', topics: [topic] });
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (extra.get(topic) ?? 1) - 1;
    if (left > 0) return void extra.set(topic, left);
    extra.delete(topic);
    if (authenticated && !topics().includes(topic)) {
      send({ op: 'unsubscribe', topics: [topic] });
      const next = new Set(subscribedTopics.value);
      next.delete(topic);
      subscribedTopics.value = next;
    }
  };
}

// Timestamps are coalesced: one signal write per animation frame at most.
let pendingTopics: Record<string, number> | null = null;
function touch(topic: string): void {
  if (!pendingTopics) {
    pendingTopics = {};
    requestAnimationFrame(() => {
      lastEventAt.value = { ...lastEventAt.value, ...pendingTopics };
      pendingTopics = null;
    });
  }
  pendingTopics[topic] = Date.now();
}

function dispatch(e: LiveEvent): void {
  touch(e.topic);
  handlers.get(e.topic)?.forEach((h) => {
    try {
      h(e);
    } catch (err) {
      console.error('live handler', err);
    }
  });
}

function scheduleReconnect(): void {
  if (!wanted || retryTimer) return;
  liveStatus.value = 'closed';
  const delay = Math.min(30000, 500 * 2 ** retry) * (0.7 + Math.random() * 0.6);
  retry = Math.min(retry + 1, 6);
  retryTimer = window.setTimeout(() => {
    retryTimer = 0;
    open();
  }, delay);
}

function cleanup(): void {
  window.clearInterval(pingTimer);
  pingTimer = 0;
  authenticated = false;
  subscribedOnce = false;
  if (subscribedTopics.value.size) subscribedTopics.value = new Set();
  if (ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close();
    } catch {
      /* already closed */
    }
    ws = null;
  }
}

function open(): void {
  cleanup();
  const token = session.value?.token;
  if (!wanted || !token) return;
  liveStatus.value = 'connecting';
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/stream`;
  const sock = new WebSocket(url);
  ws = sock;
  sock.onopen = () => sock.send(JSON.stringify({ op: 'auth', token }));
  sock.onmessage = (m) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(String(m.data)) as Record<string, unknown>;
    } catch {
      return;
    }
    pongDeadline = 0;
    if (typeof msg.topic === 'string') return dispatch(msg as unknown as LiveEvent);
    switch (msg.op) {
      case 'authenticated': {
        authenticated = true;
        const list = topics();
        if (list.length) sock.send(JSON.stringify({ op: 'subscribe', topics: list }));
        else {
          // Nothing to follow yet (a citizen before the portal asks for notifications).
          retry = 0;
          liveStatus.value = 'open';
        }
        break;
      }
      case 'subscribed': {
        const accepted = Array.isArray(msg.topics) ? (msg.topics as unknown[]).filter((x): x is string => typeof x === 'string') : [];
        subscribedTopics.value = new Set([...subscribedTopics.value, ...accepted]);
        retry = 0;
        liveStatus.value = 'open';
        // Snapshots reload once per connection, not for each topic a screen adds later.
        if (!subscribedOnce) {
          subscribedOnce = true;
          resyncs.value++;
        }
        break;
      }
      case 'error':
        if (msg.code === 'unauthenticated') {
          wanted = false;
          cleanup();
          liveStatus.value = 'closed';
        }
        break;
    }
  };
  sock.onclose = () => {
    cleanup();
    scheduleReconnect();
  };
  sock.onerror = () => sock.close();
  // A silent network (laptop asleep, proxy dropped the socket) is noticed within ~40 s.
  pingTimer = window.setInterval(() => {
    if (sock.readyState !== WebSocket.OPEN) return;
    if (pongDeadline && Date.now() > pongDeadline) return sock.close();
    if (!pongDeadline) pongDeadline = Date.now() + 20000;
    sock.send(JSON.stringify({ op: 'ping' }));
  }, 20000);
}

export function startLive(): void {
  if (wanted) return;
  wanted = true;
  retry = 0;
  open();
}

export function stopLive(): void {
  wanted = false;
  window.clearTimeout(retryTimer);
  retryTimer = 0;
  cleanup();
  liveStatus.value = 'idle';
}

// Back online or visible again after a long sleep: reconnect now instead of waiting.
window.addEventListener('online', () => {
  if (wanted && liveStatus.value !== 'open') {
    window.clearTimeout(retryTimer);
    retryTimer = 0;
    open();
  }
});

/** For tests and diagnostics: drop the connection as a network failure would. */
(window as unknown as { __cityiocDropLive?: () => void }).__cityiocDropLive = () => ws?.close();
