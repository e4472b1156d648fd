// The demo follows the sample's log lines by the functions that write them
// (sample/src/sample.messages.ts), so that a changed text changes what the demo looks for with it.

// A parameter in the text: its index between two private-use characters, which no message holds.
const MARK = /\uE000(\d+)\uE001/;

/** `text` as a regular expression that matches it literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A reader of the lines that `message` writes under the Nest logger context `context`: for such a
 * line, its arguments as text, indexed as `message`'s parameters; undefined for any other line.
 * `message` is called once with a mark per parameter, so it must only put its arguments into the
 * text; an argument ends where the text that follows it in the message starts.
 */
export function lineReader<A extends unknown[]>(
  context: string,
  message: (...args: A) => string,
): (line: string) => string[] | undefined {
  const marks = Array.from({ length: message.length }, (_, i) => `\uE000${i}\uE001`);
  const parts = message(...(marks as A)).split(MARK);
  // split() with a capture group alternates literal text and parameter indexes.
  const params = parts.filter((_, i) => i % 2 === 1).map(Number);
  const last = parts.length - 2; // the last argument: the rest of the line if no text follows it
  const body = parts
    .map((part, i) =>
      i % 2 === 0 ? literal(part) : i === last && !parts[i + 1] ? '(.*)' : '(.*?)',
    )
    .join('');
  const pattern = new RegExp(`\\[${literal(context)}\\] ${body}`);
  return (line) => {
    const match = pattern.exec(line);
    if (!match) return undefined;
    const args: string[] = [];
    params.forEach((param, group) => (args[param] = match[group + 1]!));
    return args;
  };
}
