// The path part of a request target, for the HTTP and WebSocket endpoints' path checks.

/** `/a/b?x=1` -> `/a/b`; a missing target counts as `/`. */
export function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}
