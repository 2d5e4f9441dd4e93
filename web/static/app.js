// CityIOC interim console: plain ES module, no build step. Server text only reaches the page
// through textContent or attributes, never innerHTML. T: [Vietnamese, English] strings built here;
// index.html's fixed text is Vietnamese with its English in data-en (data-en-label for aria-label).
const T = {
  title: ['CityIOC — Trung tâm giám sát, điều hành đô thị thông minh', 'CityIOC — Smart city monitoring and operations centre'],
  langBtn: ['English', 'Tiếng Việt'],
  'login.submit': ['Đăng nhập', 'Sign in'],
  'st.checking': ['Đang kiểm tra…', 'Checking…'],
  'st.ready': ['Sẵn sàng', 'Ready'],
  'st.notReady': ['Chưa sẵn sàng', 'Not ready'],
  'st.down': ['Mất kết nối', 'Unreachable'],
  'st.detail': ['Lược đồ v{v} · {n} đơn vị', 'Schema v{v} · {n} units'],
  'st.updated': ['Cập nhật lúc ', 'Updated at '],
  'me.allUnits': ['Toàn hệ thống', 'Whole system'],
  'me.key': ['Khóa API ({s})', 'API key ({s})'],
  'login.busy': ['Đang đăng nhập…', 'Signing in…'],
  'login.required': ['Vui lòng nhập tên đăng nhập và mật khẩu.', 'Please enter your username and password.'],
  'login.bad': ['Sai tên đăng nhập hoặc mật khẩu.', 'Wrong username or password.'],
  'login.expired': ['Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.', 'Your session has expired. Please sign in again.'],
  'login.signedOut': ['Bạn đã đăng xuất.', 'You have signed out.'],
  'role.admin': ['Quản trị hệ thống', 'System administrator'],
  'role.leader': ['Lãnh đạo', 'Leader'],
  'role.supervisor': ['Giám sát viên', 'Supervisor'],
  'role.operator': ['Điều hành viên', 'Operator'],
  'role.agency_staff': ['Cán bộ đơn vị', 'Agency staff'],
  'role.citizen': ['Người dân', 'Citizen'],
  'role.system': ['Hệ thống', 'System'],
  'units.range': ['Hiển thị {a}–{b} trên tổng số {n} đơn vị', 'Showing {a}–{b} of {n} units'],
  'units.none': ['Không tìm thấy đơn vị nào.', 'No units found.'],
  loading: ['Đang tải…', 'Loading…'],
  'level.province': ['Cấp tỉnh', 'Province level'],
  'level.commune': ['Cấp xã', 'Commune level'],
  'pg.page': ['Trang {p}/{n}', 'Page {p} of {n}'],
  'detail.hint': ['Chọn một đơn vị trong bảng để xem chi tiết.', 'Choose a unit in the table to see its details.'],
  'detail.crumbs': ['Đường dẫn', 'Breadcrumbs'],
  'detail.root': ['Tất cả đơn vị', 'All units'],
  'detail.code': ['Mã đơn vị', 'Unit code'],
  'detail.kind': ['Loại hình', 'Type'],
  'detail.level': ['Cấp', 'Level'],
  'detail.nameEn': ['Tên tiếng Anh', 'English name'],
  'detail.parent': ['Trực thuộc', 'Part of'],
  'detail.children': ['Đơn vị trực thuộc ({n})', 'Units under it ({n})'],
  'detail.noChildren': ['Không có đơn vị trực thuộc.', 'No units under this one.'],
  'audit.verifying': ['Đang kiểm tra chuỗi băm…', 'Verifying the hash chain…'],
  'audit.ok': ['Chuỗi băm toàn vẹn: đã kiểm tra {n} bản ghi.', 'Hash chain intact: {n} entries checked.'],
  'audit.headHash': ['Mã băm cuối chuỗi: ', 'Head hash: '],
  'audit.bad': ['Chuỗi băm bị phá vỡ tại bản ghi số {seq}: {p} (đã kiểm tra {n} bản ghi).', 'Hash chain broken at entry {seq}: {p} ({n} entries checked).'],
  'audit.count': ['Đang hiển thị {n} bản ghi.', 'Showing {n} entries.'],
  'audit.none': ['Chưa có bản ghi nào.', 'No entries yet.'],
  'users.count': ['Hiển thị {n} trên tổng số {t} người dùng.', 'Showing {n} of {t} users.'],
  'users.none': ['Không có người dùng nào.', 'No users.'],
  'u.active': ['Đang hoạt động', 'Active'],
  'u.disabled': ['Đã vô hiệu hóa', 'Disabled'],
  'err.0': ['Không kết nối được tới máy chủ.', 'Cannot reach the server.'],
  'err.401': ['Chưa xác thực.', 'Not signed in.'],
  'err.403': ['Không có quyền truy cập.', 'Access denied.'],
  'err.404': ['Không tìm thấy.', 'Not found.'],
  'err.422': ['Dữ liệu không hợp lệ.', 'Invalid data.'],
  'err.429': ['Quá nhiều yêu cầu.', 'Too many requests.'],
  'err.500': ['Lỗi máy chủ.', 'Server error.'],
  'err.503': ['Dịch vụ tạm thời không sẵn sàng.', 'Service temporarily unavailable.'],
  'err.other': ['Đã xảy ra lỗi (mã {s}).', 'Something went wrong (status {s}).'],
  'err.retry': ['Vui lòng thử lại sau {s} giây.', 'Please try again in {s} seconds.'],
  'err.request': ['Mã yêu cầu: {id}', 'Request ID: {id}'],
};
const VI = {};
const EN = {};
for (const [k, [vi, en]] of Object.entries(T)) { VI[k] = vi; EN[k] = en; }
const KIND_EN = { 'Tỉnh': 'Province', 'Thành phố': 'City', 'Xã': 'Commune', 'Phường': 'Ward', 'Đặc khu': 'Special administrative region' };
const TZ = 'Asia/Ho_Chi_Minh';
const PAGE = 50;

const $ = (id) => document.getElementById(id);
//! Reads (v undefined), writes or removes (v null) a web storage item; storage may be disabled.
function store(area, k, v) {
  try {
    if (v === undefined) return window[area].getItem(k);
    v === null ? window[area].removeItem(k) : window[area].setItem(k, v);
  } catch { return null; }
}
let lang = store('localStorage', 'cityioc.lang') === 'en' ? 'en' : 'vi';

const t = (key, p = {}) => ((lang === 'en' ? EN : VI)[key] ?? VI[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(p[k] ?? ''));
const locale = () => (lang === 'vi' ? 'vi-VN' : 'en-GB');
const num = (n) => new Intl.NumberFormat(locale()).format(n);
function fmtDate(v, timeOnly) {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v ?? '');
  const o = { timeZone: TZ, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
  if (!timeOnly) Object.assign(o, { year: 'numeric', month: '2-digit', day: '2-digit' });
  return new Intl.DateTimeFormat(locale(), o).format(d);
}
const roleName = (r) => (VI['role.' + r] ? t('role.' + r) : String(r ?? ''));
const kindName = (kind, kindEn) => (lang === 'en' ? kindEn || KIND_EN[kind] || kind : kind);

//! Builds an element: props become attributes (on* = listeners, text = textContent); children are nodes or text.
function el(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  e.append(...kids.filter((c) => c != null && c !== false));
  return e;
}
const timeEl = (iso, timeOnly) => el('time', { datetime: iso, text: fmtDate(iso, timeOnly) });
const td = (text, cls) => el('td', { class: cls, text: text ?? '' });
const link = (text, onclick, lng) => el('button', { type: 'button', class: 'link', lang: lng, text, onclick });
function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

// ---------- API ----------
class ApiError extends Error {
  constructor(status, problem, retryAfter, requestId) {
    super(`HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.retryAfter = retryAfter;
    this.requestId = this.problem.request_id || requestId || '';
  }
}

let session = null; // {token, expires_at, user, unitName}
let gen = 0; // bumped on sign-in and sign-out so that late answers for an old session are dropped

async function api(path, { method = 'GET', body, auth = true, signal, on401 = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && session) headers.Authorization = 'Bearer ' + session.token;
  let res;
  try {
    res = await fetch(path, { method, headers, signal, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0);
  }
  if (res.status === 204) return null;
  let data = null;
  if ((res.headers.get('Content-Type') || '').includes('json')) data = await res.json().catch(() => null);
  if (res.ok) return data;
  const ra = parseInt(res.headers.get('Retry-After'), 10); // the server sends seconds
  const err = new ApiError(res.status, data, Number.isNaN(ra) ? null : ra, res.headers.get('X-Request-Id'));
  if (res.status === 401 && auth && on401) expireSession(err);
  throw err;
}

//! An error's paragraphs: localized summary (+ retry hint), the server's text, the request id.
function errNodes(err, summary) {
  if (!err) return [];
  if (err === 'required') return [el('p', { text: t('login.required') })];
  const s = err.status;
  const line = el('p', {}, el('strong', { text: summary || (VI['err.' + s] ? t('err.' + s) : s >= 500 ? t('err.500') : t('err.other', { s })) }));
  if (err.retryAfter != null && (s === 429 || s === 503)) line.append(' ', t('err.retry', { s: num(err.retryAfter) }));
  // detail, else title; skipped if it arrived garbled
  const detail = [err.problem.detail, err.problem.title].find((x) => typeof x === 'string' && x && !/[\0-\x1f\ufffd]/.test(x));
  return [line, detail && el('p', { lang: 'en', text: detail }), err.requestId && el('p', { class: 'muted', text: t('err.request', { id: err.requestId }) })]
    .filter(Boolean);
}
const showError = (box, err, summary) => box.replaceChildren(...errNodes(err, summary));

// ---------- Health ----------
const health = { state: 'checking', ready: null, at: null, busy: false };

async function checkHealth() {
  if (health.busy) return;
  health.busy = true;
  const probe = (path) => api(path, { auth: false, signal: AbortSignal.timeout?.(5000) }).catch(() => null);
  const [h, r] = await Promise.all([probe('/healthz'), probe('/readyz')]);
  health.busy = false;
  health.state = !h ? 'down' : r?.status === 'ready' ? 'ready' : 'notReady';
  health.ready = health.state === 'ready' ? r : null;
  health.at = new Date();
  renderHealth();
}
function renderHealth() {
  const pill = $('health-pill');
  pill.className = 'pill pill-' + health.state;
  setText(pill, t('st.' + health.state));
  const rb = health.ready;
  setText($('health-detail'), rb && Number.isFinite(rb.units) ? t('st.detail', { v: rb.schema_version, n: num(rb.units) }) : '');
  $('health-at').replaceChildren(...(health.at ? [t('st.updated'), timeEl(health.at.toISOString(), true)] : []));
}

// ---------- Session ----------
let expiryTimer = 0;
let notice = null; // {key, err} shown above the sign-in form
let loginError = null;
let loginWaitUntil = 0;

const saveSession = () => store('sessionStorage', 'cityioc.session', session ? JSON.stringify(session) : null);
const can = (perm) => !!session?.user?.permissions?.includes(perm);

function expireSession(err) {
  if (!session) return;
  notice = { key: 'login.expired', err };
  showLogin();
}
function showLogin() {
  session = null;
  saveSession();
  gen++;
  clearTimeout(expiryTimer);
  units.ctl?.abort();
  units.dctl?.abort();
  $('app').hidden = $('userbar').hidden = true;
  $('login').hidden = false;
  renderLogin();
  $('login-user').focus();
}
function renderLogin() {
  const n = $('login-notice');
  n.replaceChildren();
  if (notice) {
    const id = notice.err?.requestId;
    n.append(el('div', { class: 'note' }, el('p', { text: t(notice.key) }), id && el('p', { class: 'muted', text: t('err.request', { id }) })));
  }
  showError($('login-error'), loginError, loginError?.status === 401 ? t('login.bad') : null);
}

async function onLogin(e) {
  e.preventDefault();
  const user = $('login-user');
  const pass = $('login-pass');
  const username = user.value.trim();
  const password = pass.value;
  user.setAttribute('aria-invalid', !username);
  pass.setAttribute('aria-invalid', !password);
  notice = null;
  if (!username || !password) {
    loginError = 'required';
    renderLogin();
    return (username ? pass : user).focus();
  }
  const btn = $('login-submit');
  btn.disabled = true;
  btn.textContent = t('login.busy');
  try {
    const res = await api('/api/v1/auth/login', { method: 'POST', body: { username, password }, auth: false });
    session = { token: res.token, expires_at: res.expires_at, user: res.user || {} };
    saveSession();
    loginError = null;
    pass.value = '';
    enterApp(true);
  } catch (err) {
    loginError = err;
    renderLogin();
    if (err.status === 401) {
      pass.value = '';
      pass.focus();
    }
    if (err.status === 429 && err.retryAfter) loginWaitUntil = Date.now() + err.retryAfter * 1000;
  }
  btn.textContent = t('login.submit');
  const wait = loginWaitUntil - Date.now();
  btn.disabled = wait > 0;
  if (wait > 0) setTimeout(() => { btn.disabled = false; }, wait);
}

async function signOut() {
  const g = gen;
  try { await api('/api/v1/auth/logout', { method: 'POST', on401: false }); } catch { /* the session ends here anyway */ }
  if (g !== gen) return;
  notice = { key: 'login.signedOut' };
  loginError = null;
  showLogin();
}

function enterApp(focus) {
  gen++;
  $('login').hidden = true;
  $('app').hidden = $('userbar').hidden = false;
  clearTimeout(expiryTimer);
  const left = Date.parse(session.expires_at) - Date.now();
  if (left < 2 ** 31) expiryTimer = setTimeout(() => expireSession(null), Math.max(left, 0));
  renderUser();
  loadUserUnit();
  Object.assign(units, { q: '', level: '', offset: 0, items: [], total: 0, error: null, detail: null, parent: null, dLoading: false, dError: null });
  $('units-q').value = $('units-level').value = '';
  loadUnits();
  renderDetail();
  audit.verify = audit.verifyError = null;
  audit.verifying = false;
  renderVerify();
  for (const l of [audit, users]) {
    Object.assign(l, { items: [], total: 0, loading: false, error: null, done: true });
    $(l.id).hidden = !can(l.perm);
    if (can(l.perm)) loadList(l, false);
  }
  if (focus) $('units-q').focus();
}

function renderUser() {
  if (!session) return;
  const u = session.user;
  setText($('me-name'), u.name || '');
  setText($('me-role'), u.role ? roleName(u.role) : u.scope ? t('me.key', { s: u.scope }) : '');
  setText($('me-unit'), !u.unit_code ? t('me.allUnits') : session.unitName ? `${session.unitName} (${u.unit_code})` : u.unit_code);
  $('me-exp').replaceChildren(session.expires_at ? timeEl(session.expires_at) : '');
}
async function loadUserUnit() {
  const code = session.user.unit_code;
  if (!code || session.unitName) return;
  const g = gen;
  try {
    const u = await api('/api/v1/units/' + encodeURIComponent(code));
    if (g !== gen) return;
    session.unitName = u.full_name || u.name;
    saveSession();
    renderUser();
  } catch { /* the code alone is shown */ }
}

async function resume() {
  try { session = JSON.parse(store('sessionStorage', 'cityioc.session')); } catch { session = null; }
  if (!session?.token) {
    session = null;
    return;
  }
  try {
    session.user = await api('/api/v1/auth/me'); // fresh permissions; a 401 sends us to sign-in
    saveSession();
  } catch (err) {
    if (err.status === 401) return;
  }
  if (session) enterApp(false);
}

// ---------- Units ----------
const units = { q: '', level: '', offset: 0, total: 0, items: [], loading: false, error: null, ctl: null,
  detail: null, parent: null, dLoading: false, dError: null, dctl: null };
let searchTimer = 0;

async function loadUnits() {
  units.ctl?.abort();
  const ctl = (units.ctl = new AbortController());
  const g = gen;
  const { q, level, offset } = units;
  const p = new URLSearchParams({ ...(q && { q }), ...(level && { level }), limit: PAGE, offset });
  units.loading = true;
  renderUnits();
  try {
    const r = await api('/api/v1/units?' + p, { signal: ctl.signal });
    if (g !== gen) return;
    Object.assign(units, { items: r.items || [], total: Number(r.total) || 0, error: null });
  } catch (err) {
    if (err.name === 'AbortError' || g !== gen) return;
    Object.assign(units, { items: [], total: 0, error: err });
  }
  units.loading = false;
  renderUnits();
}
function search(now) {
  clearTimeout(searchTimer);
  const run = () => {
    const q = $('units-q').value.trim();
    const level = $('units-level').value;
    if (q === units.q && level === units.level && !units.error) return;
    Object.assign(units, { q, level, offset: 0 });
    loadUnits();
  };
  if (now) run();
  else searchTimer = setTimeout(run, 300);
}
function page(delta) {
  const next = units.offset + delta * PAGE;
  if (next < 0 || next >= units.total) return;
  units.offset = next;
  loadUnits();
}

function renderUnits() {
  const { items, total, offset, loading } = units;
  setText($('units-status'), loading ? t('loading') : units.error ? '' : total
    ? t('units.range', { a: num(offset + 1), b: num(offset + items.length), n: num(total) }) : t('units.none'));
  showError($('units-error'), units.error);
  const sel = units.detail?.code;
  $('units-body').replaceChildren(...items.map((u) => {
    const on = u.code === sel;
    const b = link(u.name, () => openUnit(u.code));
    if (on) b.setAttribute('aria-current', 'true');
    return el('tr', { class: on ? 'clickable sel' : 'clickable', onclick: (e) => e.target.closest('button') || openUnit(u.code) },
      td(u.code, 'mono'), el('td', { lang: 'vi' }, b), el('td', { lang, text: kindName(u.kind, u.kind_en) }),
      td(u.level && t('level.' + u.level)));
  }));
  setText($('pg-label'), t('pg.page', { p: num(Math.floor(offset / PAGE) + 1), n: num(Math.max(1, Math.ceil(total / PAGE))) }));
  $('pg-prev').disabled = loading || offset === 0;
  $('pg-next').disabled = loading || offset + PAGE >= total;
}

async function openUnit(code) {
  units.dctl?.abort();
  const ctl = (units.dctl = new AbortController());
  const g = gen;
  const get = (c) => api('/api/v1/units/' + encodeURIComponent(c), { signal: ctl.signal });
  Object.assign(units, { dLoading: true, dError: null });
  renderDetail();
  try {
    const d = await get(code);
    const pc = d.parent_code;
    // a parent outside the caller's scope is shown by its code
    const parent = !pc ? null : units.parent?.code === pc ? units.parent
      : await get(pc).catch((e) => { if (e.name === 'AbortError' || e.status === 401) throw e; return { code: pc, name: pc }; });
    if (g !== gen) return;
    Object.assign(units, { detail: d, parent });
  } catch (err) {
    if (err.name === 'AbortError' || g !== gen) return;
    units.dError = err;
  }
  units.dLoading = false;
  renderDetail();
  renderUnits();
  $('detail-title')?.focus();
}
function closeUnit() {
  units.dctl?.abort();
  Object.assign(units, { detail: null, parent: null, dError: null, dLoading: false });
  renderDetail();
  renderUnits();
  $('units-q').focus();
}

function renderDetail() {
  const body = $('detail-body');
  const { detail: d, parent: p, dLoading, dError } = units;
  body.replaceChildren();
  if (dLoading) body.append(el('p', { class: 'status', role: 'status', text: t('loading') }));
  if (dError) body.append(el('div', { class: 'msg', role: 'alert' }, ...errNodes(dError)));
  if (!d) {
    if (!dLoading && !dError) body.append(el('p', { class: 'muted', text: t('detail.hint') }));
    return;
  }
  const crumbs = el('ol', {}, el('li', {}, link(t('detail.root'), closeUnit)));
  if (p) crumbs.append(el('li', {}, link(p.name, () => openUnit(p.code), 'vi')));
  crumbs.append(el('li', { lang: 'vi' }, el('span', { 'aria-current': 'page', text: d.name })));
  body.append(el('nav', { class: 'crumbs', 'aria-label': t('detail.crumbs') }, crumbs),
    el('h3', { id: 'detail-title', tabindex: '-1', lang: 'vi', text: d.full_name || d.name }));
  const props = el('dl', { class: 'props' });
  const row = (k, v) => props.append(el('dt', { text: t(k) }), el('dd', {}, v));
  row('detail.code', el('span', { class: 'mono', text: d.code }));
  row('detail.kind', kindName(d.kind, d.kind_en));
  row('detail.level', d.level ? t('level.' + d.level) : '');
  if (d.full_name_en) row('detail.nameEn', el('span', { lang: 'en', text: d.full_name_en }));
  if (p) row('detail.parent', link(p.full_name || p.name, () => openUnit(p.code), 'vi'));
  const kids = d.children || [];
  body.append(props, el('h4', { text: t('detail.children', { n: num(kids.length) }) }));
  body.append(kids.length
    ? el('ul', { class: 'kids' }, ...kids.map((c) => el('li', {}, link(c.name, () => openUnit(c.code), 'vi'),
      el('span', { class: 'muted' }, kindName(c.kind), ' · ', el('span', { class: 'mono', text: c.code })))))
    : el('p', { class: 'muted', text: t('detail.noChildren') }));
}

// ---------- Audit log and users: the same list panel ----------
const audit = {
  id: 'audit', perm: 'audit:read', limit: PAGE, countKey: 'audit.count', noneKey: 'audit.none',
  // Newest first; "load more" pages backwards in time.
  url: (l, more) => '/api/v1/audit?' + new URLSearchParams({ limit: PAGE, order: 'desc', ...(more && l.items.length ? { before: l.items[l.items.length - 1].seq } : {}) }),
  row: (a) => [td(a.seq, 'mono'), el('td', { class: 'nowrap' }, a.at && timeEl(a.at)),
    el('td', {}, a.actor || '', a.role && el('span', { class: 'muted', text: ` (${roleName(a.role)})` })),
    td(a.unit, 'mono'), td(a.action, 'mono'), td(a.target, 'mono'), td(a.client, 'mono'),
    el('td', {}, el('code', { class: 'wrap', text: a.request_id || '' })),
    el('td', {}, el('code', { class: 'wrap', text: typeof a.detail === 'string' ? a.detail : a.detail == null ? '' : JSON.stringify(a.detail) }))],
};
const users = {
  id: 'users', perm: 'users:read', limit: 100, countKey: 'users.count', noneKey: 'users.none',
  url: (l, more) => `/api/v1/users?limit=100&offset=${more ? l.items.length : 0}`,
  row: (u) => [td(u.id, 'mono'), td(u.username), td(roleName(u.role)),
    td(u.unit_code || t('me.allUnits'), u.unit_code && 'mono'), td(t(u.disabled ? 'u.disabled' : 'u.active')),
    el('td', { class: 'nowrap' }, u.created_at && timeEl(u.created_at))],
};

async function loadList(l, more) {
  const g = gen;
  l.loading = true;
  renderList(l);
  try {
    const r = await api(l.url(l, more));
    if (g !== gen) return;
    const items = r.items || [];
    l.items = more ? l.items.concat(items) : items;
    // the audit list has no total: a short page means the end
    l.done = r.total != null ? l.items.length >= r.total : items.length < l.limit;
    Object.assign(l, { total: r.total ?? l.items.length, error: null });
  } catch (err) {
    if (g !== gen) return;
    l.error = err;
  }
  l.loading = false;
  renderList(l);
}
function renderList(l) {
  const n = l.items.length;
  setText($(l.id + '-status'), l.loading ? t('loading') : l.error ? '' : n ? t(l.countKey, { n: num(n), t: num(l.total) }) : t(l.noneKey));
  showError($(l.id + '-error'), l.error);
  $(l.id + '-body').replaceChildren(...l.items.map((x) => el('tr', {}, ...l.row(x))));
  $(l.id + '-more').hidden = l.done;
  $(l.id + '-more').disabled = $(l.id + '-reload').disabled = l.loading;
}

async function verifyAudit() {
  const g = gen;
  audit.verifying = true;
  renderVerify();
  let v = null;
  let error = null;
  try { v = await api('/api/v1/audit/verify'); } catch (err) { error = err; }
  if (g !== gen) return;
  Object.assign(audit, { verify: v, verifyError: error, verifying: false });
  renderVerify();
}
function renderVerify() {
  const out = $('audit-verify-out');
  const v = audit.verify;
  out.replaceChildren();
  $('audit-verify').disabled = audit.verifying;
  if (audit.verifying) out.append(el('p', { class: 'status', text: t('audit.verifying') }));
  else if (audit.verifyError) out.append(el('div', { class: 'msg' }, ...errNodes(audit.verifyError)));
  else if (v?.intact) {
    out.append(el('div', { class: 'ok' }, el('p', {}, el('strong', { text: '✓ ' + t('audit.ok', { n: num(v.entries) }) })),
      v.head_hash && el('p', {}, t('audit.headHash'), el('code', { class: 'wrap', text: v.head_hash }))));
  } else if (v) {
    out.append(el('div', { class: 'bad' }, el('p', {}, el('strong', {
      text: '✗ ' + t('audit.bad', { seq: v.first_bad_seq ?? '?', p: v.problem || '', n: num(v.entries ?? 0) }) }))));
  }
}

// ---------- Language and start-up ----------
function applyLang() {
  document.documentElement.lang = lang;
  document.title = t('title');
  for (const [n, vi] of fixed) setText(n, lang === 'en' ? n.dataset.en : vi);
  for (const [n, vi] of labels) n.setAttribute('aria-label', lang === 'en' ? n.dataset.enLabel : vi);
  setText($('login-submit'), t('login.submit'));
  const b = $('lang-toggle');
  b.textContent = t('langBtn');
  b.lang = lang === 'vi' ? 'en' : 'vi';
  renderHealth();
  renderLogin();
  if (!session) return;
  renderUser();
  renderUnits();
  renderDetail();
  renderList(audit);
  renderList(users);
  renderVerify();
}

const fixed = [...document.querySelectorAll('[data-en]')].map((n) => [n, n.textContent]);
const labels = [...document.querySelectorAll('[data-en-label]')].map((n) => [n, n.getAttribute('aria-label')]);
const on = (id, ev, f) => $(id).addEventListener(ev, f);
on('lang-toggle', 'click', () => {
  lang = lang === 'vi' ? 'en' : 'vi';
  store('localStorage', 'cityioc.lang', lang);
  applyLang();
});
on('login-form', 'submit', onLogin);
on('login-show', 'change', (e) => { $('login-pass').type = e.target.checked ? 'text' : 'password'; });
on('logout', 'click', signOut);
on('units-form', 'submit', (e) => { e.preventDefault(); search(true); });
on('units-q', 'input', () => search(false));
on('units-level', 'change', () => search(true));
on('pg-prev', 'click', () => page(-1));
on('pg-next', 'click', () => page(1));
on('audit-reload', 'click', () => loadList(audit, false));
on('audit-more', 'click', () => loadList(audit, true));
on('audit-verify', 'click', verifyAudit);
on('users-reload', 'click', () => loadList(users, false));
on('users-more', 'click', () => loadList(users, true));
applyLang();
checkHealth();
setInterval(checkHealth, 10000);
document.addEventListener('visibilitychange', () => document.hidden || checkHealth());
resume();
