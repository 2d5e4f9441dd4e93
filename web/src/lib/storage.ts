// Web storage that tolerates being disabled (private modes, kiosk policies).
function area(persistent: boolean): Storage | null {
  try {
    return persistent ? window.localStorage : window.sessionStorage;
  } catch {
    return null;
  }
}

export const storage = {
  get(key: string, persistent = true): string | null {
    try {
      return area(persistent)?.getItem(key) ?? null;
    } catch {
      return null;
    }
  },
  set(key: string, value: string | null, persistent = true): void {
    try {
      const a = area(persistent);
      if (value === null) a?.removeItem(key);
      else a?.setItem(key, value);
    } catch {
      /* quota or disabled: the app still works for this page */
    }
  },
};
