import type { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import type { SearchAttributeKind } from './search-attributes';

const INDEXED_VALUE_TYPE = {
  Keyword: 'KEYWORD',
  Bool: 'BOOL',
  Int: 'INT',
  Datetime: 'DATETIME',
  Text: 'TEXT',
  Double: 'DOUBLE',
} as const satisfies Record<SearchAttributeKind, string>;

/** gRPC status ALREADY_EXISTS: another client registered the attribute between our list and add calls. */
const ALREADY_EXISTS = 6;

/**
 * Registers custom search attributes on a namespace; idempotent. Attributes already present
 * with the same type are skipped; one present with another type is an error naming both types.
 */
export async function registerSearchAttributes(
  connection: Connection,
  namespace: string,
  attributes: Readonly<Record<string, SearchAttributeKind>>,
): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing: Record<string, ReturnType<typeof encodeIndexedValueType>> = {};
  for (const [name, kind] of Object.entries(attributes)) {
    const wanted = encodeIndexedValueType(kind);
    const existing = customAttributes[name];
    if (existing === undefined) missing[name] = wanted;
    else if (existing !== wanted) {
      throw new Error(
        `search attribute ${name} already exists in namespace ${namespace} with type ${describeIndexedValueType(existing)}, not ${kind}`,
      );
    }
  }
  if (Object.keys(missing).length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } catch (err) {
    if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
  }
}

function encodeIndexedValueType(kind: SearchAttributeKind) {
  const encoded = encodeSearchAttributeIndexedValueType(INDEXED_VALUE_TYPE[kind]);
  if (encoded === undefined) throw new Error(`unknown search attribute type ${kind}`);
  return encoded;
}

function describeIndexedValueType(encoded: number): string {
  const kinds = Object.keys(INDEXED_VALUE_TYPE) as SearchAttributeKind[];
  return kinds.find((kind) => encodeIndexedValueType(kind) === encoded) ?? `#${encoded}`;
}
