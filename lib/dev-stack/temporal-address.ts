import { z } from 'zod';

/** An existing Temporal cluster named by the environment, used instead of starting the dev server. */
export interface ExternalTemporal {
  address: string;
  /** `TEMPORAL_UI_URL`, or '' when the environment does not say where the Web UI is. */
  uiUrl: string;
}

const HostPort = z.string().regex(/^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'must be host:port, e.g. temporal.internal:7233');

/** `TEMPORAL_ADDRESS` (host:port) and `TEMPORAL_UI_URL`; undefined when the address is unset or empty. */
export function externalTemporalFromEnv(env: NodeJS.ProcessEnv = process.env): ExternalTemporal | undefined {
  const address = env.TEMPORAL_ADDRESS?.trim();
  if (!address) return undefined;
  const parsedAddress = HostPort.safeParse(address);
  if (!parsedAddress.success) throw new Error(`TEMPORAL_ADDRESS ${parsedAddress.error.issues[0]?.message ?? 'is invalid'}`);
  const uiUrl = env.TEMPORAL_UI_URL?.trim() ?? '';
  if (uiUrl && !z.url().safeParse(uiUrl).success) throw new Error('TEMPORAL_UI_URL must be a URL');
  return { address: parsedAddress.data, uiUrl };
}
