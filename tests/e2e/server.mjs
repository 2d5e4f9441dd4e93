// Starts a real cityioc for the end-to-end tests: a free port (--listen 127.0.0.1:0, the port is
// read from "cityioc listening on http://…"), a temporary data directory, the demo city (accounts
// in <data>/demo-credentials.txt). stop() sends SIGTERM and removes the directory.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function findBinary(root) {
  const candidates = [process.env.IOC_E2E_BINARY, 'build/web/cityioc', 'build/release/cityioc', 'build/debug-asan/cityioc'];
  for (const c of candidates) {
    if (!c) continue;
    const p = c.startsWith('/') ? c : join(root, c);
    if (existsSync(p)) return p;
  }
  throw new Error(`no cityioc binary (tried ${candidates.filter(Boolean).join(', ')}); set IOC_E2E_BINARY`);
}

export async function startServer({ binary, logDir, timeoutMs = 60000 }) {
  const data = mkdtempSync(join(tmpdir(), 'cityioc-e2e-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CITYIOC_')));
  const child = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--data', data, '--demo'], {
    env: { ...env, CITYIOC_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(logDir, 'server.log'));
  child.stderr.pipe(log);
  let out = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    child.stdout.on('data', (b) => {
      out += b.toString();
      log.write(b);
      const m = out.match(/cityioc listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  child.stdout.on('data', (b) => log.write(b));
  const accounts = {};
  for (const line of readFileSync(join(data, 'demo-credentials.txt'), 'utf8').split('\n')) {
    const [user, password, role] = line.trim().split(/\s+/);
    if (!line.startsWith('#') && role) accounts[role] = { user, password };
  }
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
    rmSync(data, { recursive: true, force: true });
  };
  return { url, accounts, stop, child };
}
