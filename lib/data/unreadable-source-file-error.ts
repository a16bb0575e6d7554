/** A source file that cannot be read, and why; `line` (1-based, the header is line 1) when the problem is on one line. */
export interface UnreadableFile {
  /** The file's name in its partition folder. */
  readonly file: string;
  readonly line?: number;
  /** What is wrong, to follow the file's name or "line N": "is empty (0 bytes)", "has 6 fields where the header has 5". */
  readonly reason: string;
}

/**
 * Partition files that cannot be read: empty, truncated or corrupt Parquet, a CSV line with
 * the wrong number of fields or bytes that are not UTF-8, a line of JSONL that is not JSON.
 * Permanent: the same bytes fail the same way on every attempt.
 * @example "partition date=2001-01-08 of flight-delay cannot be read: part-1.csv line 3 has 6 fields where the header has 5, line 9 has 4 fields where the header has 5; fix or replace the file, retrying will not help"
 */
export class UnreadableSourceFileError extends Error {
  readonly type = 'UnreadableSourceFile' as const;

  constructor(
    readonly subject: string,
    readonly files: readonly UnreadableFile[],
    options?: ErrorOptions,
  ) {
    super(`${subject} cannot be read: ${describeFiles(files)}; fix or replace the file, retrying will not help`, options);
    this.name = 'UnreadableSourceFileError';
  }
}

/** Each file named once, followed by its problems: "a.csv line 3 has 6 fields where the header has 5, line 9 …; b.parquet is empty (0 bytes)". */
function describeFiles(files: readonly UnreadableFile[]): string {
  const byFile = new Map<string, string[]>();
  for (const f of files) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f.line === undefined ? f.reason : `line ${f.line} ${f.reason}`]);
  return [...byFile].map(([file, problems]) => `${file} ${problems.join(', ')}`).join('; ');
}
