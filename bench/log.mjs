/** One progress line on stdout, stamped with the wall-clock time (UTC). */
export function log(...args) {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);
}
