// fetch() with the session's bearer token and RFC 9457 problem details turned into ApiError.
import { session, expire } from './session';
import { t } from './i18n';
import type { Key } from './strings';

export interface Problem {
  type?: string;
  title?: string;
  detail?: string;
  status?: number;
  request_id?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem = {},
  ) {
    super(problem.detail || problem.title || `HTTP ${status}`);
  }
  /** A sentence for the user, in the current language. */
  get userMessage(): string {
    const known = [0, 401, 403, 404, 409, 422, 429];
    const base = known.includes(this.status) ? t(`err.${this.status}` as Key) : t('err.other', { s: this.status });
    return this.problem.detail && this.status !== 0 ? `${base} ${this.problem.detail}` : base;
  }
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  /** Do not attach the session token (public routes). */
  anonymous?: boolean;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  data: T;
  headers: Headers;
}

export async function request<T>(path: string, o: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...o.headers };
  const token = session.value?.token;
  if (token && !o.anonymous) headers.Authorization = `Bearer ${token}`;
  let body = o.body;
  if (o.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(o.json);
  }
  let res: Response;
  try {
    res = await fetch(path, { method: o.method ?? (body ? 'POST' : 'GET'), headers, body, signal: o.signal ?? null });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0);
  }
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && token && !o.anonymous) expire();
    throw new ApiError(res.status, (data && typeof data === 'object' ? data : {}) as Problem);
  }
  return { data: data as T, headers: res.headers };
}

export async function api<T>(path: string, o: RequestOptions = {}): Promise<T> {
  return (await request<T>(path, o)).data;
}

/** Query string from defined values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}
