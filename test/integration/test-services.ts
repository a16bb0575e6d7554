/** Connection details of the real services the integration global setup started. */
export interface TestServices {
  temporalAddress: string;
  temporalUiUrl: string;
  namespace: string;
  /** Admin URL of the Postgres server; each test file creates its own database on it. */
  databaseUrl: string;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; bucket: string };
  /** Scratch directory shared by the run, removed at teardown. */
  workDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: TestServices;
  }
}
