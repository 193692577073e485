/**
 * RFC 4180 CSV, made safe to open in a spreadsheet: a cell that begins with `=`, `+`, `-`, `@`,
 * a tab or a carriage return would be read as a formula, so it gets a leading `'`. A cell that
 * already begins with `'` gets one too, so removing exactly one restores every value.
 */
const FORMULA_START = /^[=+\-@\t\r']/;

export function neutralizeFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

export function restoreFormula(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell;
}

function quoteCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One record, CRLF-terminated, every cell neutralized and quoted as needed. */
export function csvRecord(cells: (string | number | boolean | null)[]): string {
  return `${cells.map((cell) => quoteCell(neutralizeFormula(cell === null ? "" : String(cell)))).join(",")}\r\n`;
}

/** Parses CSV text arriving in chunks into records, quoted newlines included. */
export async function* parseCsv(chunks: AsyncIterable<string>): AsyncGenerator<string[]> {
  let record: string[] = [];
  let cell = "";
  let quoted = false;
  let afterQuote = false;
  let pendingCr = false;
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const char = chunk[i]!;
      if (quoted) {
        if (char === '"') {
          quoted = false;
          afterQuote = true;
        } else cell += char;
        continue;
      }
      if (pendingCr) {
        pendingCr = false;
        if (char === "\n") continue;
      }
      if (char === '"') {
        if (afterQuote) cell += '"';
        else if (cell !== "") throw new Error(`A quote inside an unquoted cell, in record ${record.length + 1}.`);
        quoted = true;
        afterQuote = false;
      } else if (char === ",") {
        record.push(cell);
        cell = "";
        afterQuote = false;
      } else if (char === "\r" || char === "\n") {
        record.push(cell);
        yield record;
        record = [];
        cell = "";
        afterQuote = false;
        pendingCr = char === "\r";
      } else {
        if (afterQuote) throw new Error("Text after a closing quote.");
        cell += char;
      }
    }
  }
  if (quoted) throw new Error("The file ends inside a quoted cell.");
  if (cell !== "" || record.length > 0) {
    record.push(cell);
    yield record;
  }
}
