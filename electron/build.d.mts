/** Types for build.mjs (plain JS so it runs with `node` alone). */
export function buildElectron(root?: string): Promise<{ main: string; preload: string }>;
