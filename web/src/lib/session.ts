// The signed-in user: a session token from POST /api/v1/auth/login, kept in sessionStorage
// (or localStorage when "remember on this device" is ticked, for video walls that reload).
import { signal, computed } from '@preact/signals';
import { storage } from './storage';
import { api } from './api';

export interface Me {
  kind: 'user' | 'api_key';
  id: string | number;
  name: string;
  unit_code: string | null;
  role?: string;
  permissions: string[];
}

export interface Session {
  token: string;
  expires_at?: string;
  persistent: boolean;
  me?: Me;
}

const KEY = 'cityioc.session';

function load(): Session | null {
  for (const persistent of [false, true]) {
    const raw = storage.get(KEY, persistent);
    if (!raw) continue;
    try {
      const s = JSON.parse(raw) as Session;
      if (s.expires_at && Date.parse(s.expires_at) < Date.now()) continue;
      return { ...s, persistent };
    } catch {
      /* ignore a corrupt entry */
    }
  }
  return null;
}

export const session = signal<Session | null>(load());
/** Set when the server refused the token: the login screen says why. */
export const expired = signal(false);

export const me = computed(() => session.value?.me ?? null);
export function can(permission: string): boolean {
  return me.value?.permissions.includes(permission) ?? false;
}

function save(s: Session | null): void {
  storage.set(KEY, null, true);
  storage.set(KEY, null, false);
  if (s) storage.set(KEY, JSON.stringify({ token: s.token, expires_at: s.expires_at, me: s.me }), s.persistent);
  session.value = s;
}

export function setSession(s: Session | null): void {
  if (s) expired.value = false;
  save(s);
}

export function expire(): void {
  if (!session.value) return;
  expired.value = true;
  save(null);
}

export async function login(username: string, password: string, persistent: boolean): Promise<void> {
  const r = await api<{ token: string; expires_at?: string }>('/api/v1/auth/login', {
    json: { username, password },
    anonymous: true,
  });
  const s: Session = { token: r.token, persistent };
  if (r.expires_at) s.expires_at = r.expires_at;
  // Who we are before the session is visible: screens and the live stream need the permissions.
  const who = await api<Me>('/api/v1/auth/me', { anonymous: true, headers: { Authorization: `Bearer ${r.token}` } });
  setSession({ ...s, me: who });
}

export async function logout(): Promise<void> {
  try {
    await api('/api/v1/auth/logout', { method: 'POST' });
  } catch {
    /* signing out locally is what matters */
  }
  setSession(null);
}
