// CSV as RFC 4180 writes it: comma-separated, CRLF line ends, a field quoted when it holds a quote, a comma or a line
// break, its quotes doubled. Nulls are empty fields; objects are written as their JSON.

export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
