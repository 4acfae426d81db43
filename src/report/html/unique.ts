/**
 * Hands out names no earlier call got, comparing without case: a report's figure names become
 * --png file names (Base1 and base1 are one file on a case-folding file system, and slugs fold
 * case anyway) and HTML element ids. The second "x" becomes "x-2", the third "x-3".
 */
export class UniqueNames {
  private readonly taken = new Set<string>();

  claim(want: string): string {
    let name = want;
    for (let k = 2; this.taken.has(name.toLowerCase()); k++) name = `${want}-${k}`;
    this.taken.add(name.toLowerCase());
    return name;
  }
}
