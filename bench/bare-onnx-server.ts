/**
 * The bench:gateway baseline: the least a fastify + onnxruntime-node server must do to answer
 * the gateway's predict body `{ instance }` or `{ instances }` with the same ONNX model — parse,
 * build one tensor per model input, run, answer `{ predictions: [{ probability, label }] }`.
 * No validation, routing, logging or metrics: what the gateway adds is measured against this.
 * Sessions use the gateway's options (GATEWAY_SESSION_OPTIONS), so both run the model alike.
 *
 * Run: `tsx bench/bare-onnx-server.ts <model.onnx> [port] [host]`; prints `listening <url>`.
 */
import { readFile } from 'node:fs/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import * as ort from 'onnxruntime-node';
import { GATEWAY_SESSION_OPTIONS } from '../gateway/model-session';
import { binaryLabel } from '../lib/stats/decision-threshold';

type Row = Record<string, number | string | null>;

export async function startBareOnnxServer(options: { modelFile: string; port?: number; host?: string }): Promise<{ app: FastifyInstance; url: string }> {
  const session = await ort.InferenceSession.create(await readFile(options.modelFile), GATEWAY_SESSION_OPTIONS);
  const inputs = session.inputMetadata.map((m) => ({ name: m.name, type: m.isTensor ? m.type : 'unsupported' }));
  const app = Fastify({ bodyLimit: 1024 * 1024 });
  app.post<{ Body: { instance?: Row; instances?: Row[] } }>('/predict', async (request) => {
    const rows = request.body.instances ?? [request.body.instance!];
    const n = rows.length;
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of inputs) {
      if (input.type === 'string') {
        feeds[input.name] = new ort.Tensor('string', rows.map((r) => (r[input.name] ?? '') as string), [n, 1]);
      } else {
        feeds[input.name] = new ort.Tensor('float32', Float32Array.from(rows, (r) => (r[input.name] ?? NaN) as number), [n, 1]);
      }
    }
    const output = (await session.run(feeds, ['probabilities'])).probabilities!.data as Float32Array;
    const predictions = new Array<{ probability: number; label: number }>(n);
    for (let i = 0; i < n; i++) {
      const probability = output[2 * i + 1]!;
      predictions[i] = { probability, label: binaryLabel(probability) };
    }
    return { predictions };
  });
  app.addHook('onClose', async () => session.release());
  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { app, url: `http://${host}:${port}` };
}

async function main(): Promise<void> {
  const [modelFile, port, host] = process.argv.slice(2);
  if (!modelFile) throw new Error('usage: tsx bench/bare-onnx-server.ts <model.onnx> [port] [host]');
  const { app, url } = await startBareOnnxServer({ modelFile, port: port ? Number(port) : 0, host });
  process.stdout.write(`listening ${url}\n`);
  await new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await app.close();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
