// CSV lines as RFC 4180 has them (LF line ends, like the clearing submission): a field holding a
// comma, a quote or a line break is quoted, its quotes doubled; null is an empty field.

export type CsvValue = string | number | boolean | null | undefined

export function csvField(value: CsvValue): string {
  const text = value === null || value === undefined ? '' : String(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export const csvLine = (values: readonly CsvValue[]) => `${values.map(csvField).join(',')}\n`
