/**
 * An open-loop load generator: requests start at Poisson-distributed times at a fixed mean
 * rate, whatever the answers do, over a pool of keep-alive HTTP/1.1 connections.
 *
 * autocannon is closed-loop: each connection sends its next request when the previous answer
 * arrives, so a server at capacity sees exactly `connections` requests in flight and the
 * latency it reports is connections ÷ throughput (Little's law), whatever the server does with
 * its time. To see what one thing (a shadow) adds to the caller's latency, the offered load has
 * to be the same with and without it; this client holds it so. (autocannon's `overallRate`
 * does not: it sends each second's budget as fast as it can and then waits.)
 *
 * Arrivals are dispatched by a timer of millisecond resolution: requests due within the same
 * millisecond leave together, as small bursts (a few requests at thousands per second). Runs
 * given the same seed and rate offer the same schedule. A request is timed from when it is
 * written; one that found every connection busy waits for one first (counted, not timed).
 *
 * Requests and answers are written and parsed by hand on raw sockets: the client shares a CPU
 * with Postgres in the bench, and Node's http client costs several times more per request.
 */
import net from 'node:net';
import { mulberry32 } from '../lib/stats/seeded-random';

export interface PacedLoadOptions {
  url: string;
  /** JSON request body, sent with POST. */
  body: string;
  /** Extra request headers (e.g. authorization). */
  headers?: Readonly<Record<string, string>>;
  /** Mean requests per second. */
  rate: number;
  seconds: number;
  /** Keep-alive connections; a request that finds none free waits for one (counted in `queued`). */
  connections: number;
  /** Seed of the arrival times, so that runs offer the same schedule. */
  seed?: number;
}

export interface PacedLoadResult {
  /** Milliseconds from writing each 2xx request to the end of its answer. */
  latencies: Float64Array;
  ok: number;
  failed: number;
  /** Requests that had to wait for a free connection (the offered load exceeded what the connections carried). */
  queued: number;
  /** Seconds from the first request to the last answer. */
  duration: number;
}

interface Connection {
  socket: net.Socket;
  sentAt: number;
  received: Buffer;
}

export async function pacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const url = new URL(options.url);
  const payload = Buffer.from(options.body);
  const request = Buffer.concat([
    Buffer.from(
      `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
        Object.entries(options.headers ?? {})
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('') +
        `content-length: ${payload.length}\r\n\r\n`,
    ),
    payload,
  ]);
  const latencies: number[] = [];
  let failed = 0;
  let queued = 0;
  let waiting = 0;
  let inFlight = 0;
  let scheduling = true;
  const idle: Connection[] = [];
  const random = mulberry32(options.seed ?? 1);

  let settle!: () => void;
  let fail!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });

  const send = (connection: Connection) => {
    inFlight++;
    connection.sentAt = performance.now();
    connection.socket.write(request);
  };
  const release = (connection: Connection) => {
    inFlight--;
    if (waiting > 0) {
      waiting--;
      send(connection);
    } else {
      idle.push(connection);
      if (!scheduling && inFlight === 0) settle();
    }
  };
  const onData = (connection: Connection, chunk: Buffer) => {
    connection.received = connection.received.length === 0 ? chunk : Buffer.concat([connection.received, chunk]);
    let answer: { status: number; length: number } | null;
    try {
      answer = parseAnswer(connection.received);
    } catch (err) {
      fail(err as Error);
      return;
    }
    if (!answer) return;
    if (answer.length !== connection.received.length) {
      fail(new Error(`${options.url} sent more than one answer to one request`));
      return;
    }
    connection.received = Buffer.alloc(0);
    if (answer.status >= 200 && answer.status < 300) latencies.push(performance.now() - connection.sentAt);
    else failed++;
    release(connection);
  };

  const connections = await Promise.all(
    Array.from({ length: options.connections }, () => openConnection(url, (connection, chunk) => onData(connection, chunk), fail)),
  );
  idle.push(...connections);

  const started = performance.now();
  const end = started + options.seconds * 1000;
  let next = started;
  const tick = () => {
    const now = performance.now();
    while (next <= now && next < end) {
      const connection = idle.pop();
      if (connection) send(connection);
      else {
        queued++;
        waiting++;
      }
      next += (-Math.log(1 - random()) / options.rate) * 1000;
    }
    if (next < end) setTimeout(tick, Math.max(0, Math.floor(next - performance.now())));
    else {
      scheduling = false;
      if (inFlight === 0 && waiting === 0) settle();
    }
  };
  tick();
  try {
    await done;
  } finally {
    for (const connection of connections) connection.socket.destroy();
  }
  return { latencies: Float64Array.from(latencies), ok: latencies.length, failed, queued, duration: (performance.now() - started) / 1000 };
}

function openConnection(url: URL, onData: (connection: Connection, chunk: Buffer) => void, onError: (err: Error) => void): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    const connection: Connection = { socket, sentAt: 0, received: Buffer.alloc(0) };
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', onError);
      socket.on('close', () => onError(new Error(`${url.host} closed a keep-alive connection`)));
      resolve(connection);
    });
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => onData(connection, chunk));
  });
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** The status and byte length of a complete HTTP/1.1 answer at the start of `buffer`, or null while it is incomplete. */
function parseAnswer(buffer: Buffer): { status: number; length: number } | null {
  const headerEnd = buffer.indexOf(HEADER_END);
  if (headerEnd < 0) return null;
  const head = buffer.toString('latin1', 0, headerEnd);
  const status = Number(head.slice(9, 12));
  const match = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (!match) throw new Error(`answer without content-length: ${head.split('\r\n')[0]}`);
  const length = headerEnd + HEADER_END.length + Number(match[1]);
  return buffer.length >= length ? { status, length } : null;
}
