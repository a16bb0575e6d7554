/**
 * The few Markdown pieces the evidence is written with (GitHub-flavoured, as the Temporal Web UI
 * renders a run's current details): escaped text, tables, headings. Every value that comes from
 * a run (messages, reasons an approver typed, version names) goes through `escapeText`, so a
 * reason with `|`, `*`, `<a>` or `[x](y)` shows as typed and cannot break a table or add a link.
 */

/** Text shown as typed: Markdown and HTML punctuation backslash-escaped, line breaks as spaces. */
export function escapeText(text: string): string {
  return text.replace(/\r?\n|\r/g, ' ').replace(/[\\`*_[\]<>|~#]/g, (c) => `\\${c}`);
}

/** A link whose label is escaped; the URL must be http(s) (anything else is shown as text). */
export function link(label: string, url: string): string {
  if (!/^https?:\/\/[^\s()<>]+$/.test(url)) return `${escapeText(label)}: ${escapeText(url)}`;
  return `[${escapeText(label)}](${url})`;
}

export type Align = 'left' | 'right';

/** A table; cells are Markdown already (escape values with escapeText). */
export function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const rule = header.map((_, i) => (align[i] === 'right' ? '---:' : '---'));
  const line = (cells: readonly string[]) => `| ${cells.map((c) => (c === '' ? ' ' : c)).join(' | ')} |`;
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}

/** Blocks separated by blank lines; empty blocks are left out. */
export function blocks(...parts: ReadonlyArray<string | null | undefined | false>): string {
  return parts.filter((p): p is string => typeof p === 'string' && p.trim() !== '').join('\n\n');
}
