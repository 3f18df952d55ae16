import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A test CA and the server certificates it signs, made by openssl in a temporary folder. */
export interface TestCa {
  dir: string;
  /** PEM of the CA certificate (what a client, or a webhook's caBundle, trusts). */
  caPem: string;
  /** Signs `NAME.crt` / `NAME.key` for 127.0.0.1 with a hex serial; returns their paths. */
  issue(name: string, serial: string): { cert: string; key: string };
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** Makes a P-256 CA, valid two days, in a new temporary folder. */
export function makeTestCa(prefix = 'tai-ca-'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=tai-test-ca', '-days', '2');
  return {
    dir,
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    issue(name, serial) {
      openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1\n');
      openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${serial}`, '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
      return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
    },
  };
}
