// Types of scripts/build-terminal.mjs for the TypeScript that imports it (its test).
export declare const terminalDir: string
export declare function buildTerminal(): Promise<{ files: string[]; inputs: string[] }>
