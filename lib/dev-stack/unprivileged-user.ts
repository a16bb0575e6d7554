import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * The user to run a server as when this process is root (Postgres refuses to run as root):
 * the first of `candidates` found in /etc/passwd. Undefined when not root: run as ourselves.
 */
export function unprivilegedUser(candidates: readonly string[] = ['postgres', 'nobody']): SystemUser | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const users = readPasswd();
  for (const name of candidates) {
    const user = users.find((entry) => entry.name === name);
    if (user) return user;
  }
  throw new Error(`running as root, and none of the users ${candidates.join(', ')} exists to run the server as`);
}

function readPasswd(): SystemUser[] {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length >= 4)
    .map(([name = '', , uid = '', gid = '']) => ({ name, uid: Number(uid), gid: Number(gid) }));
}

/**
 * Throws unless `user` may traverse every directory above `target` (e.g. a checkout under
 * /root, mode 0700, is out of reach for the `postgres` user). Supplementary groups are ignored.
 */
export function assertReachableBy(user: SystemUser, target: string, purpose: string): void {
  let dir = path.dirname(path.resolve(target));
  for (;;) {
    const stat = statSync(dir);
    const bits = stat.uid === user.uid ? 0o100 : stat.gid === user.gid ? 0o010 : 0o001;
    if ((stat.mode & bits) === 0) {
      throw new Error(
        `${purpose} runs as user '${user.name}', which cannot enter ${dir} (mode ${(stat.mode & 0o777).toString(8)}) ` +
          `to reach ${target}. Use a data directory outside ${dir}, set DATABASE_URL, or allow access (chmod o+x ${dir}).`,
      );
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}
