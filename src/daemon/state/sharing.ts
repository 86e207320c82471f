/**
 * Who may use daemonctl's files: owner-only by default, wider only when `socketMode` or
 * `socketGroup` say so. Every socket, file and directory daemonctl creates takes its mode (and
 * group) from here.
 */
export interface Sharing {
  socketMode: number;
  fileMode: number;
  dirMode: number;
  gid?: number | undefined;
}

export function sharingFor(socketMode: number | undefined, gid: number | undefined): Sharing {
  const mode = socketMode ?? (gid !== undefined ? 0o660 : 0o600);
  const group = (mode & 0o060) !== 0;
  const other = (mode & 0o006) !== 0;
  return {
    socketMode: mode,
    fileMode: 0o600 | (group ? 0o060 : 0) | (other ? 0o004 : 0),
    dirMode: 0o700 | (group ? 0o070 : 0) | (other ? 0o005 : 0) | (gid !== undefined ? 0o2000 : 0),
    gid,
  };
}
