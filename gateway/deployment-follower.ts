/**
 * Follows deployment changes: a dedicated Postgres connection LISTENs on
 * `retrain_deployments` (the payload names the model) and asks for a reload of that model.
 * A lost connection is re-established with exponential backoff, and after every (re)connect
 * everything is reloaded, since notifications sent while disconnected are lost. A slow
 * periodic full refresh (which also pings the connection) is the safety net.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { DEPLOYMENTS_CHANNEL } from '../lib/db/repositories/deployments';

export interface DeploymentFollowerOptions {
  connectionString: string;
  /** Called with a model name for one model's change, or with no argument for "reload everything". */
  onChange(model?: string): void;
  log: Logger;
  /** Full refresh (and connection ping) interval. Default 30 s. */
  refreshIntervalMs?: number;
  /** Reconnect backoff bounds. Defaults 100 ms and 5 s. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

const PING_TIMEOUT_MS = 5_000;

export class DeploymentFollower {
  private client: pg.Client | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelayMs = 0;
  private closed = false;

  constructor(private readonly options: DeploymentFollowerOptions) {}

  /** Whether the LISTEN connection is up. */
  get connected(): boolean {
    return this.client !== null;
  }

  /** Connects and listens (throws if the first attempt fails), then asks for a full reload. */
  async start(): Promise<void> {
    await this.connect();
    const interval = this.options.refreshIntervalMs ?? 30_000;
    this.refreshTimer = setInterval(() => void this.refresh(), interval);
    this.refreshTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString, keepAlive: true, application_name: 'retrain-gateway-listener' });
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = null;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (!this.closed) {
        this.options.log.warn({ err }, 'deployment listener connection lost; reconnecting');
        this.scheduleReconnect();
      }
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (msg) => {
      if (msg.channel === DEPLOYMENTS_CHANNEL) this.options.onChange(msg.payload || undefined);
    });
    try {
      await client.connect();
      await client.query(`listen ${DEPLOYMENTS_CHANNEL}`);
    } catch (err) {
      lost = true;
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectDelayMs = 0;
    // Anything may have changed while no one was listening.
    this.options.onChange();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const min = this.options.reconnectMinMs ?? 100;
    this.reconnectDelayMs = Math.min(this.options.reconnectMaxMs ?? 5_000, Math.max(min, this.reconnectDelayMs * 2));
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().then(
        () => this.options.log.info('deployment listener reconnected'),
        (err: unknown) => {
          this.options.log.warn({ err, retryInMs: this.reconnectDelayMs * 2 }, 'deployment listener could not reconnect');
          this.scheduleReconnect();
        },
      );
    }, this.reconnectDelayMs);
  }

  /** Periodic safety net: reload everything, and check that the listener's connection still answers. */
  private async refresh(): Promise<void> {
    if (this.closed) return;
    this.options.onChange();
    const client = this.client;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.query('select 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      client.emit('error', err instanceof Error ? err : new Error(String(err)));
    } finally {
      clearTimeout(timer);
    }
  }
}
