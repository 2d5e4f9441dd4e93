// Administration: users, API keys, devices, rules, SOP templates and routing tables. Lists and
// small forms or JSON editors over the existing API (its problem details shown as they come);
// each tab shows only what the account may see and offers only what it may change.
import { useEffect, useState } from 'preact/hooks';
import { Fragment, type JSX } from 'preact';
import { t, fmtDateTime } from '../lib/i18n';
import type { Key } from '../lib/strings';
import { api, qs } from '../lib/api';
import { can, me } from '../lib/session';
import { ErrorLine } from '../components/ErrorLine';
import { categoryLabel } from '../lib/labels';

type Tab = 'users' | 'keys' | 'devices' | 'rules' | 'sop' | 'routing';
const TABS: { id: Tab; label: Key; permission: string }[] = [
  { id: 'users', label: 'admin.users', permission: 'users:read' },
  { id: 'keys', label: 'admin.keys', permission: 'keys:manage' },
  { id: 'devices', label: 'admin.devices', permission: 'ingest' },
  { id: 'rules', label: 'admin.rules', permission: 'alerts:read' },
  { id: 'sop', label: 'admin.sop', permission: 'incidents:read' },
  { id: 'routing', label: 'admin.routing', permission: 'incidents:read' },
];
const ROLES = ['admin', 'leader', 'supervisor', 'operator', 'agency_staff', 'citizen'];

function useLoad<T>(path: string | null, deps: unknown[] = []): { data: T | null; error: unknown; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!path) return;
    setError(null);
    api<T>(path).then(setData, setError);
  }, [path, n, ...deps]);
  return { data, error, reload: () => setN((x) => x + 1) };
}

function Users() {
  interface User { id: number; username: string; role: string; unit_code: string | null; disabled: boolean; created_at: string }
  const { data, error, reload } = useLoad<{ items: User[] } | User[]>(`/api/v1/users${qs({ limit: 200 })}`);
  const [formError, setFormError] = useState<unknown>(null);
  const users = Array.isArray(data) ? data : data?.items ?? [];
  const manage = can('users:manage');
  const add = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    setFormError(null);
    try {
      await api('/api/v1/users', { json: { username: f.get('username'), password: f.get('password'), role: f.get('role'), unit_code: f.get('unit_code') || undefined } });
      form.reset();
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  const toggle = async (u: User) => {
    try {
      await api(`/api/v1/users/${u.id}`, { method: 'PATCH', json: { disabled: !u.disabled } });
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  return (
    <>
      <ErrorLine error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">{t('admin.username')}</th>
            <th scope="col">{t('admin.role')}</th>
            <th scope="col">{t('admin.unitCode')}</th>
            <th scope="col">{t('admin.status')}</th>
            <th scope="col">{t('admin.created')}</th>
            {manage && <th scope="col" />}
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id}>
              <td>{u.username}</td>
              <td>{t(`role.${u.role}` as Key)}</td>
              <td>{u.unit_code ?? '—'}</td>
              <td>{u.disabled ? t('admin.disabled') : t('admin.active')}</td>
              <td>{fmtDateTime(u.created_at)}</td>
              {manage && (
                <td>
                  {String(u.id) !== String(me.value?.id) && (
                    <button type="button" class="link" onClick={() => toggle(u)}>
                      {u.disabled ? t('admin.enable') : t('admin.disable')}
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {manage && (
        <form class="inline-form" onSubmit={add} aria-label={t('admin.addUser')}>
          <h3>{t('admin.addUser')}</h3>
          <label>
            {t('admin.username')}
            <input name="username" required autoComplete="off" />
          </label>
          <label>
            {t('login.password')}
            <input name="password" type="password" required minLength={12} autoComplete="new-password" />
          </label>
          <label>
            {t('admin.role')}
            <select name="role">
              {ROLES.map((r) => (
                <option value={r} key={r}>
                  {t(`role.${r}` as Key)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('admin.unit')}
            <input name="unit_code" inputMode="numeric" defaultValue={me.value?.unit_code ?? ''} />
          </label>
          <button type="submit" class="primary">
            {t('admin.addUser')}
          </button>
          <ErrorLine error={formError} />
        </form>
      )}
    </>
  );
}

function Keys() {
  interface ApiKey { id: number; name: string; scope: string; unit_code: string | null; prefix: string; revoked: boolean; created_at: string }
  const { data, error, reload } = useLoad<{ items: ApiKey[] } | ApiKey[]>('/api/v1/keys');
  const [secret, setSecret] = useState<string | null>(null);
  const [formError, setFormError] = useState<unknown>(null);
  const keys = Array.isArray(data) ? data : data?.items ?? [];
  const add = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    setFormError(null);
    try {
      const r = await api<{ key: string }>('/api/v1/keys', { json: { name: f.get('name'), scope: f.get('scope'), unit_code: f.get('unit_code') || undefined } });
      setSecret(r.key);
      form.reset();
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  const revoke = async (k: ApiKey) => {
    try {
      await api(`/api/v1/keys/${k.id}`, { method: 'DELETE' });
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  return (
    <>
      <ErrorLine error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">{t('admin.name')}</th>
            <th scope="col">{t('admin.scope')}</th>
            <th scope="col">{t('admin.unitCode')}</th>
            <th scope="col">Prefix</th>
            <th scope="col">{t('admin.status')}</th>
            <th scope="col" />
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>{k.scope}</td>
              <td>{k.unit_code ?? '—'}</td>
              <td>
                <code>{k.prefix}</code>
              </td>
              <td>{k.revoked ? t('admin.revoked') : t('admin.active')}</td>
              <td>
                {!k.revoked && (
                  <button type="button" class="link" onClick={() => revoke(k)}>
                    {t('admin.revoke')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="inline-form" onSubmit={add} aria-label={t('admin.addKey')}>
        <h3>{t('admin.addKey')}</h3>
        <label>
          {t('admin.name')}
          <input name="name" required />
        </label>
        <label>
          {t('admin.scope')}
          <select name="scope">
            {['ingest', 'read', 'integration'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          {t('admin.unit')}
          <input name="unit_code" inputMode="numeric" />
        </label>
        <button type="submit" class="primary">
          {t('admin.addKey')}
        </button>
        <ErrorLine error={formError} />
        {secret && (
          <p class="notice" role="status">
            {t('admin.keyOnce')} <code>{secret}</code>
          </p>
        )}
      </form>
    </>
  );
}

/** A JSON editor: a labelled textarea, its submit button, the server's error next to it. */
function JsonEditor({ id, label, value, onInput, onSubmit, submitLabel, error, done, extra }: {
  id: string;
  label: string;
  value: string;
  onInput: (v: string) => void;
  onSubmit: () => void;
  submitLabel: string;
  error: unknown;
  done: string | null;
  extra?: JSX.Element;
}) {
  return (
    <form
      class="json-editor"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      <label for={id}>{label}</label>
      <textarea id={id} value={value} rows={16} spellcheck={false} onInput={(e) => onInput((e.currentTarget as HTMLTextAreaElement).value)} />
      <div class="editor-actions">
        <button type="submit" class="primary">
          {submitLabel}
        </button>
        {extra}
      </div>
      <ErrorLine error={error} />
      {done && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
    </form>
  );
}

/** Parses the editor's text; a syntax error becomes an Error with a sentence for the user. */
function parseJson(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(t('admin.badJson', { s: (e as Error).message }));
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(t('admin.badJson', { s: 'expected an object {…}' }));
  return v as Record<string, unknown>;
}

const pretty = (v: unknown) => JSON.stringify(v, null, 2);

interface Device { device_id: string; apikey: string; entity_id: string; entity_type: string; attributes?: { object_id: string; name: string; unitCode?: string }[]; unit_code?: string | null; created_at?: string }
const DEVICE_TEMPLATE = {
  device_id: 'aq-sensor-01',
  apikey: 'hue-aq',
  entity_id: 'urn:ngsi-ld:AirQualityObserved:aq-sensor-01',
  entity_type: 'AirQualityObserved',
  attributes: [
    { object_id: 'p25', name: 'pm25', type: 'Property', unitCode: 'GQ' },
    { object_id: 't', name: 'temperature', type: 'Property', unitCode: 'CEL' },
  ],
};

function Devices() {
  const { data, error, reload } = useLoad<Device[] | { items: Device[] }>(`/api/v1/devices${qs({ limit: 1000 })}`);
  const rows = Array.isArray(data) ? data : data?.items ?? [];
  const [text, setText] = useState(pretty(DEVICE_TEMPLATE));
  const [formError, setFormError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const provision = async () => {
    setFormError(null);
    setDone(null);
    try {
      const d = await api<Device>('/api/v1/devices', { json: parseJson(text) });
      setDone(t('admin.deviceSaved', { id: d.device_id }));
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  const remove = async (d: Device) => {
    if (!window.confirm(t('admin.confirmDelete', { id: d.device_id }))) return;
    setFormError(null);
    setDone(null);
    try {
      await api(`/api/v1/devices/${encodeURIComponent(d.apikey)}/${encodeURIComponent(d.device_id)}`, { method: 'DELETE' });
      setDone(t('admin.deleted', { id: d.device_id }));
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  return (
    <>
      <ErrorLine error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">device_id</th>
            <th scope="col">apikey</th>
            <th scope="col">{t('admin.entity')}</th>
            <th scope="col">{t('admin.unitCode')}</th>
            <th scope="col">
              <span class="sr-only">{t('admin.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => {
            const key = `${d.apikey}/${d.device_id}`;
            return (
              <Fragment key={key}>
                <tr>
                  <td>{d.device_id}</td>
                  <td>
                    <code>{d.apikey}</code>
                  </td>
                  <td>{d.entity_id}</td>
                  <td>{d.unit_code ?? '—'}</td>
                  <td class="row-actions">
                    <button type="button" class="link" aria-expanded={open === key} onClick={() => setOpen(open === key ? null : key)}>
                      {t('admin.show')}
                    </button>
                    <button type="button" class="link danger" aria-label={`${t('admin.delete')} ${d.device_id}`} onClick={() => remove(d)}>
                      {t('admin.delete')}
                    </button>
                  </td>
                </tr>
                {open === key && (
                  <tr>
                    <td colSpan={5}>
                      <pre class="json">{pretty(d)}</pre>
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
      <h3>{t('admin.provision')}</h3>
      <p class="hint">{t('admin.provisionHint')}</p>
      <JsonEditor id="device-json" label={t('admin.deviceJson')} value={text} onInput={setText} onSubmit={provision} submitLabel={t('admin.provision')} error={formError} done={done} />
    </>
  );
}

interface Rule { id: string; name: string; kind: string; enabled?: boolean; version?: number; public?: boolean; target?: Record<string, unknown>; category?: string; [k: string]: unknown }
const RULE_TEMPLATE = {
  id: 'pm25-cao',
  name: 'Bụi mịn PM2.5 cao (> 50 µg/m³)',
  kind: 'threshold',
  target: { entityType: 'AirQualityObserved', attribute: 'pm25' },
  op: '>',
  value: 50,
  hysteresis: 5,
  forSeconds: 600,
  enabled: true,
  public: false,
  alert: {
    category: 'Env',
    severity: 'Moderate',
    urgency: 'Expected',
    certainty: 'Observed',
    headline: 'Bụi mịn PM2.5 tại {entityId}: {value} µg/m³',
    description: 'Hạn chế hoạt động ngoài trời kéo dài.',
  },
};

function Rules() {
  const { data, error, reload } = useLoad<Rule[]>('/api/v1/rules');
  const manage = can('rules:manage');
  const [editing, setEditing] = useState<string | null>(null); // null = a new rule
  const [text, setText] = useState(pretty(RULE_TEMPLATE));
  const [formError, setFormError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const rules = [...(data ?? [])].sort((a, b) => a.id.localeCompare(b.id));
  const reset = () => {
    setFormError(null);
    setDone(null);
  };
  const edit = (r: Rule) => {
    reset();
    setEditing(r.id);
    const { version: _v, ...rest } = r;
    setText(pretty(rest));
    document.getElementById('rule-json')?.focus();
  };
  const fresh = () => {
    reset();
    setEditing(null);
    setText(pretty(RULE_TEMPLATE));
    document.getElementById('rule-json')?.focus();
  };
  const save = async () => {
    reset();
    try {
      const body = parseJson(text);
      const r = editing
        ? await api<Rule>(`/api/v1/rules/${encodeURIComponent(editing)}`, { method: 'PUT', json: body })
        : await api<Rule>('/api/v1/rules', { json: body });
      setEditing(r.id);
      setDone(t('admin.ruleSaved', { id: r.id, v: r.version ?? '' }));
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  const toggle = async (r: Rule) => {
    reset();
    try {
      const { version: _v, ...rest } = r;
      const enabled = r.enabled === false;
      await api(`/api/v1/rules/${encodeURIComponent(r.id)}`, { method: 'PUT', json: { ...rest, enabled } });
      // The rule open in the editor follows, so that saving it later does not undo the switch.
      if (editing === r.id) {
        try {
          setText(pretty({ ...parseJson(text), enabled }));
        } catch {
          // unparsable text in the editor: left as the user has it
        }
      }
      setDone(t(r.enabled === false ? 'admin.ruleEnabled' : 'admin.ruleDisabled', { id: r.id }));
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  const remove = async (r: Rule) => {
    if (!window.confirm(t('admin.confirmDelete', { id: r.id }))) return;
    reset();
    try {
      await api(`/api/v1/rules/${encodeURIComponent(r.id)}`, { method: 'DELETE' });
      if (editing === r.id) setEditing(null);
      setDone(t('admin.deleted', { id: r.id }));
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  const target = (r: Rule) => (r.target ? [r.target.entityType, r.target.attribute].filter(Boolean).join(' · ') : r.category ?? (r.kpi as string | undefined) ?? '—');
  return (
    <>
      <ErrorLine error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">id</th>
            <th scope="col">{t('admin.name')}</th>
            <th scope="col">{t('admin.kind')}</th>
            <th scope="col">{t('admin.target')}</th>
            <th scope="col">{t('admin.version')}</th>
            <th scope="col">{t('admin.public')}</th>
            <th scope="col">{t('admin.status')}</th>
            <th scope="col">
              <span class="sr-only">{t('admin.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rules.map((r) => (
            <Fragment key={r.id}>
              <tr data-rule-id={r.id}>
                <td>
                  <code>{r.id}</code>
                </td>
                <td>{r.name}</td>
                <td>{r.kind}</td>
                <td>{target(r)}</td>
                <td>{r.version ?? '—'}</td>
                <td>{r.public ? '✓' : ''}</td>
                <td>{r.enabled === false ? t('admin.ruleOff') : t('admin.ruleOn')}</td>
                <td class="row-actions">
                  <button type="button" class="link" aria-expanded={open === r.id} onClick={() => setOpen(open === r.id ? null : r.id)}>
                    {t('admin.show')}
                  </button>
                  {manage && (
                    <>
                      <button type="button" class="link" aria-label={`${t('admin.edit')} ${r.id}`} onClick={() => edit(r)}>
                        {t('admin.edit')}
                      </button>
                      <button type="button" class="link" aria-label={`${r.enabled === false ? t('admin.turnOn') : t('admin.turnOff')} ${r.id}`} onClick={() => toggle(r)}>
                        {r.enabled === false ? t('admin.turnOn') : t('admin.turnOff')}
                      </button>
                      <button type="button" class="link danger" aria-label={`${t('admin.delete')} ${r.id}`} onClick={() => remove(r)}>
                        {t('admin.delete')}
                      </button>
                    </>
                  )}
                </td>
              </tr>
              {open === r.id && (
                <tr>
                  <td colSpan={8}>
                    <pre class="json">{pretty(r)}</pre>
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      {manage && (
        <>
          <h3>{editing ? t('admin.editRule', { id: editing }) : t('admin.newRule')}</h3>
          <p class="hint">{t('admin.ruleHint')}</p>
          <JsonEditor
            id="rule-json"
            label={t('admin.ruleJson')}
            value={text}
            onInput={setText}
            onSubmit={save}
            submitLabel={editing ? t('admin.saveRule') : t('admin.createRule')}
            error={formError}
            done={done}
            extra={
              editing ? (
                <button type="button" onClick={fresh}>
                  {t('admin.newRule')}
                </button>
              ) : undefined
            }
          />
        </>
      )}
      {!manage && <ErrorLine error={formError} />}
    </>
  );
}

interface SopTemplate { id: string; title: string; category?: string; categories?: string[]; version?: number; active?: boolean; steps?: unknown[]; [k: string]: unknown }
const SOP_TEMPLATE = {
  id: 'ngap-cuc-bo',
  category: 'flooding',
  title: 'Xử lý ngập cục bộ',
  active: true,
  steps: [
    { title: 'Xác minh hiện trường', kind: 'checklist', role: 'operator', checklist: ['Gọi điện xác minh', 'Xem camera khu vực'] },
    { title: 'Thông báo đơn vị thoát nước', kind: 'notify', agency: 'Công ty Cổ phần Môi trường và Công trình đô thị Huế' },
  ],
};

function Sop() {
  const { data, error, reload } = useLoad<{ items: SopTemplate[] }>('/api/v1/sop-templates');
  const manage = can('operations:configure');
  const [editing, setEditing] = useState<string | null>(null);
  const [text, setText] = useState(pretty(SOP_TEMPLATE));
  const [formError, setFormError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const items = data?.items ?? [];
  const edit = (s: SopTemplate) => {
    setFormError(null);
    setDone(null);
    setEditing(s.id);
    setText(pretty({ category: s.category, title: s.title, active: s.active ?? true, steps: s.steps ?? [] }));
    document.getElementById('sop-json')?.focus();
  };
  const fresh = () => {
    setFormError(null);
    setDone(null);
    setEditing(null);
    setText(pretty(SOP_TEMPLATE));
  };
  const save = async () => {
    setFormError(null);
    setDone(null);
    try {
      const body = parseJson(text);
      const r = editing
        ? await api<SopTemplate>(`/api/v1/sop-templates/${encodeURIComponent(editing)}`, { method: 'PUT', json: body })
        : await api<SopTemplate>('/api/v1/sop-templates', { json: body });
      setEditing(r.id);
      setDone(t('admin.sopSaved', { id: r.id, v: r.version ?? '' }));
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  return (
    <>
      <ErrorLine error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">id</th>
            <th scope="col">{t('admin.name')}</th>
            <th scope="col">{t('ops.category')}</th>
            <th scope="col">{t('admin.version')}</th>
            <th scope="col">{t('admin.steps')}</th>
            <th scope="col">
              <span class="sr-only">{t('admin.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((s) => (
            <Fragment key={s.id}>
              <tr>
                <td>
                  <code>{s.id}</code>
                </td>
                <td>{s.title}</td>
                <td>{Array.isArray(s.categories) ? s.categories.map(categoryLabel).join(', ') : s.category ? categoryLabel(s.category) : '—'}</td>
                <td>{s.version ?? '—'}</td>
                <td>{Array.isArray(s.steps) ? s.steps.length : ''}</td>
                <td class="row-actions">
                  <button type="button" class="link" aria-expanded={open === s.id} onClick={() => setOpen(open === s.id ? null : s.id)}>
                    {t('admin.show')}
                  </button>
                  {manage && (
                    <button type="button" class="link" aria-label={`${t('admin.newVersion')} ${s.id}`} onClick={() => edit(s)}>
                      {t('admin.newVersion')}
                    </button>
                  )}
                </td>
              </tr>
              {open === s.id && (
                <tr>
                  <td colSpan={6}>
                    <pre class="json">{pretty(s)}</pre>
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      {manage && (
        <>
          <h3>{editing ? t('admin.sopVersionOf', { id: editing }) : t('admin.newSop')}</h3>
          <p class="hint">{t('admin.sopHint')}</p>
          <JsonEditor
            id="sop-json"
            label={t('admin.sopJson')}
            value={text}
            onInput={setText}
            onSubmit={save}
            submitLabel={editing ? t('admin.saveVersion') : t('admin.createSop')}
            error={formError}
            done={done}
            extra={
              editing ? (
                <button type="button" onClick={fresh}>
                  {t('admin.newSop')}
                </button>
              ) : undefined
            }
          />
        </>
      )}
    </>
  );
}

/** Incident categories the server knows (src/incidents/incident.cc). */
const INCIDENT_CATEGORIES = [
  'fire', 'traffic_accident', 'flooding', 'crime', 'medical', 'infrastructure', 'environment', 'public_order',
  'other', 'traffic_violation', 'illegal_parking', 'sidewalk_encroachment', 'crowd', 'littering',
];
interface RoutingRow { category: string; ward: string; agency: string }
interface RoutingTable { unit: string; rules: RoutingRow[]; default_agency: string | null; updated_at?: string; updated_by?: string }

function Routing() {
  const [unit, setUnit] = useState(me.value?.unit_code || '46');
  const { data, error, reload } = useLoad<RoutingTable>(unit ? `/api/v1/routing-tables/${encodeURIComponent(unit)}` : null);
  const manage = can('operations:configure');
  const [rows, setRows] = useState<RoutingRow[]>([]);
  const [fallback, setFallback] = useState('');
  const [formError, setFormError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [dirty, setDirty] = useState(false);
  useEffect(() => {
    setRows((data?.rules ?? []).map((r) => ({ category: r.category || '*', ward: r.ward === '*' ? '' : r.ward ?? '', agency: r.agency ?? '' })));
    setFallback(data?.default_agency ?? '');
    setDirty(false);
  }, [data]);
  const change = (i: number, patch: Partial<RoutingRow>) => {
    setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
    setDirty(true);
    setDone(null);
  };
  const add = () => {
    setRows([...rows, { category: 'infrastructure', ward: '', agency: '' }]);
    setDirty(true);
    setDone(null);
    // Focus the new row's category once it is drawn.
    setTimeout(() => document.getElementById(`rt-cat-${rows.length}`)?.focus(), 0);
  };
  const removeRow = (i: number) => {
    setRows(rows.filter((_, j) => j !== i));
    setDirty(true);
    setDone(null);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setFormError(null);
    setDone(null);
    try {
      const body = {
        rules: rows.map((r) => ({ category: r.category, agency: r.agency.trim(), ...(r.ward.trim() && r.ward.trim() !== '*' ? { ward: r.ward.trim() } : {}) })),
        default_agency: fallback.trim() || null,
      };
      await api(`/api/v1/routing-tables/${encodeURIComponent(unit)}`, { method: 'PUT', json: body });
      setDone(t('admin.routingSaved', { n: body.rules.length }));
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  const catLabel = (c: string) => (c === '*' ? t('admin.anyCategory') : categoryLabel(c));
  return (
    <>
      <label class="unit-picker">
        {t('admin.unitCode')}
        <input value={unit} inputMode="numeric" onChange={(e) => setUnit((e.currentTarget as HTMLInputElement).value.trim())} />
      </label>
      <ErrorLine error={error} />
      {data && (
        <form class="routing-form" onSubmit={save} aria-label={t('admin.routingOf', { unit })}>
          <p class="hint">
            {t('admin.routingHint')}
            {data.updated_at && ` ${t('admin.updatedBy', { at: fmtDateTime(data.updated_at), by: data.updated_by ?? '' })}`}
          </p>
          <table class="routing-rows">
            <thead>
              <tr>
                <th scope="col">{t('ops.category')}</th>
                <th scope="col">{t('admin.ward')}</th>
                <th scope="col">{t('ops.agency')}</th>
                {manage && (
                  <th scope="col">
                    <span class="sr-only">{t('admin.actions')}</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 && (
                <tr>
                  <td colSpan={manage ? 4 : 3}>{t('admin.noRows')}</td>
                </tr>
              )}
              {rows.map((r, i) =>
                manage ? (
                  <tr key={i} data-row={i}>
                    <td>
                      <select id={`rt-cat-${i}`} aria-label={t('admin.rowField', { f: t('ops.category'), n: i + 1 })} value={r.category} onChange={(e) => change(i, { category: (e.currentTarget as HTMLSelectElement).value })}>
                        {['*', ...INCIDENT_CATEGORIES, ...(INCIDENT_CATEGORIES.includes(r.category) || r.category === '*' ? [] : [r.category])].map((c) => (
                          <option key={c} value={c}>
                            {catLabel(c)}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <input aria-label={t('admin.rowField', { f: t('admin.ward'), n: i + 1 })} value={r.ward} placeholder={t('admin.anyWard')} inputMode="numeric" onInput={(e) => change(i, { ward: (e.currentTarget as HTMLInputElement).value })} />
                    </td>
                    <td>
                      <input aria-label={t('admin.rowField', { f: t('ops.agency'), n: i + 1 })} value={r.agency} required maxLength={200} onInput={(e) => change(i, { agency: (e.currentTarget as HTMLInputElement).value })} />
                    </td>
                    <td>
                      <button type="button" class="link danger" aria-label={t('admin.removeRowN', { n: i + 1 })} onClick={() => removeRow(i)}>
                        {t('admin.removeRow')}
                      </button>
                    </td>
                  </tr>
                ) : (
                  <tr key={i}>
                    <td>{catLabel(r.category)}</td>
                    <td>{r.ward || t('admin.anyWard')}</td>
                    <td>{r.agency}</td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
          {manage ? (
            <>
              <label>
                {t('admin.defaultAgency')}
                <input value={fallback} maxLength={200} onInput={(e) => { setFallback((e.currentTarget as HTMLInputElement).value); setDirty(true); setDone(null); }} />
              </label>
              <div class="editor-actions">
                <button type="button" onClick={add}>
                  {t('admin.addRow')}
                </button>
                <button type="submit" class="primary">
                  {t('admin.saveRouting')}
                </button>
                {dirty && <span class="hint">{t('admin.unsaved')}</span>}
              </div>
              <ErrorLine error={formError} />
              {done && (
                <p class="notice" role="status">
                  {done}
                </p>
              )}
            </>
          ) : (
            <p>
              {t('admin.defaultAgency')}: {fallback || '—'}
            </p>
          )}
        </form>
      )}
    </>
  );
}

const PANES: Record<Tab, () => JSX.Element> = { users: Users, keys: Keys, devices: Devices, rules: Rules, sop: Sop, routing: Routing };

export function Admin() {
  const tabs = TABS.filter((x) => can(x.permission));
  const [tab, setTab] = useState<Tab | undefined>(tabs[0]?.id);
  if (!tab) return <p class="notice">{t('admin.noPermission')}</p>;
  const Pane = PANES[tab];
  return (
    <div class="admin">
      <h1 class="screen-title">{t('admin.title')}</h1>
      <div role="tablist" class="tabs" aria-label={t('admin.title')}>
        {tabs.map((x) => (
          <button type="button" role="tab" key={x.id} id={`tab-${x.id}`} aria-selected={tab === x.id} aria-controls="admin-pane" onClick={() => setTab(x.id)}>
            {t(x.label)}
          </button>
        ))}
      </div>
      <section id="admin-pane" role="tabpanel" aria-labelledby={`tab-${tab}`} class="widget">
        <Pane />
      </section>
    </div>
  );
}
