import net from 'node:net';

/** Ports handed out by this process, so that parallel callers never get the same one twice. */
const handedOut = new Set<number>();

/**
 * A TCP port on `host` that nothing listens on right now, chosen by the OS.
 * Another process may still take it before the caller binds it; services fail loudly then.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await askOsForPort(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port found on ${host} after 20 attempts`);
}

function askOsForPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`could not read the port bound on ${host}`))));
    });
  });
}
