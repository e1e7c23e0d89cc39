// PEM text pasted into a one-line wizard field arrives with its newlines turned into spaces (or as
// literal "\n"). Rebuild every block from its parts instead of replacing spaces, because labels
// contain spaces ("EC PRIVATE KEY") and legacy encrypted keys carry "Proc-Type:"/"DEK-Info:" headers:
// the original appliance mangled both.

const BLOCK = /-----BEGIN ([A-Z0-9][A-Z0-9 ]*?)-----([\s\S]*?)-----END \1-----/g;
const HEADER = /\b(Proc-Type|DEK-Info):\s*(\S+)/g;

export interface PemBlock {
  readonly label: string;
  readonly text: string; // one canonical block, ending with "\n"
}

/** Every PEM block in `input`, each rebuilt with 64-column base64 lines. Empty when there is none. */
export function pemBlocks(input: string): PemBlock[] {
  const text = input.replace(/\\r\\n|\\n|\\r/g, '\n');
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const label = m[1]!;
    let body = m[2]!;
    const headers: string[] = [];
    body = body.replace(HEADER, (_all, name: string, value: string) => {
      headers.push(`${name}: ${value}`);
      return '';
    });
    const base64 = body.replace(/\s+/g, '');
    const lines = base64.match(/.{1,64}/g) ?? [];
    const head = headers.length ? [...headers, ''] : [];
    blocks.push({
      label,
      text: [`-----BEGIN ${label}-----`, ...head, ...lines, `-----END ${label}-----`].join('\n') + '\n',
    });
  }
  return blocks;
}

/** The repaired PEM text: all blocks, canonical form. Undefined when the input holds no PEM block. */
export function repairPem(input: string): string | undefined {
  const blocks = pemBlocks(input);
  return blocks.length ? blocks.map((b) => b.text).join('') : undefined;
}
