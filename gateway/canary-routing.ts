import { createHash } from 'node:crypto';

/**
 * Where a routing key falls in [0, 1) for a model: the first 4 bytes of
 * sha256(`${model}\n${routingKey}`) read as a big-endian unsigned integer, divided by 2^32.
 * Stable across processes, restarts and languages; independent between models.
 */
export function routingBucket(model: string, routingKey: string): number {
  const digest = createHash('sha256').update(model).update('\n').update(routingKey).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/**
 * Whether a request goes to the canary. With a routing key the answer is sticky: a key goes
 * to the canary when its bucket is below the weight, so it keeps its version while the weight
 * is unchanged, and a key on the canary stays there when the weight grows. Without a key,
 * each request is decided on its own with probability `weight`.
 */
export function routesToCanary(model: string, routingKey: string | null, weight: number, random: () => number = Math.random): boolean {
  if (weight <= 0) return false;
  if (weight >= 1) return true;
  return (routingKey === null ? random() : routingBucket(model, routingKey)) < weight;
}
