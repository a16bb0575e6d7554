import type { Connection } from '@temporalio/client';
import type { SearchAttributeKey, SearchAttributeType } from '@temporalio/common/lib/search-attributes';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';

/** gRPC status ALREADY_EXISTS: another client registered the attribute between our list and add calls. */
const ALREADY_EXISTS = 6;

/**
 * Registers custom search attributes on a namespace; idempotent. Attributes already present
 * with the same type are skipped; one present with another type is an error naming both types.
 * The keys are the workflows' own (workflows/definitions.ts `searchAttributes`).
 */
export async function registerSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: ReadonlyArray<SearchAttributeKey<SearchAttributeType>>,
): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing: Record<string, ReturnType<typeof encodeIndexedValueType>> = {};
  for (const { name, type } of keys) {
    const wanted = encodeIndexedValueType(type);
    const existing = customAttributes[name];
    if (existing === undefined) missing[name] = wanted;
    else if (existing !== wanted) {
      throw new Error(`search attribute ${name} already exists in namespace ${namespace} with type ${describeIndexedValueType(existing)}, not ${type}`);
    }
  }
  if (Object.keys(missing).length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } catch (err) {
    if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
  }
}

const KNOWN_TYPES = ['TEXT', 'KEYWORD', 'INT', 'DOUBLE', 'BOOL', 'DATETIME', 'KEYWORD_LIST'] as const;

function encodeIndexedValueType(type: SearchAttributeType) {
  const encoded = encodeSearchAttributeIndexedValueType(type);
  if (encoded === undefined) throw new Error(`unknown search attribute type ${type}`);
  return encoded;
}

function describeIndexedValueType(encoded: number): string {
  return KNOWN_TYPES.find((type) => encodeSearchAttributeIndexedValueType(type) === encoded) ?? `#${encoded}`;
}
