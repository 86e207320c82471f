#!/bin/sh
# daemonctl installer: curl -fsSL https://github.com/daemonctl/daemonctl/releases/latest/download/install.sh | sh
#
# Detects OS, architecture and libc, downloads the matching binary and SHA256SUMS, verifies the
# checksum and installs atomically. On any failure it says why, exits non-zero and leaves nothing
# behind.
#
#   DAEMONCTL_DOWNLOAD_URL  where the release files are (default: the project's latest release,
#                           or the release of DAEMONCTL_VERSION); used verbatim when set
#   DAEMONCTL_VERSION       a release such as 0.1.0, or latest (the default)
#   DAEMONCTL_REPO_URL      the project's repository (default: https://github.com/daemonctl/daemonctl),
#                           for mirrors
#   DAEMONCTL_INSTALL_DIR   where to put `daemonctl` (default: $HOME/.local/bin; /usr/local/bin as root)
set -eu

REPO_URL="${DAEMONCTL_REPO_URL:-https://github.com/daemonctl/daemonctl}"

say() { printf 'daemonctl-install: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

tmp=""
cleanup() {
  if [ -n "$tmp" ] && [ -d "$tmp" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

detect_os() {
  case "$(uname -s)" in
    Linux) echo linux ;;
    Darwin) echo darwin ;;
    *) die "unsupported operating system: $(uname -s) (binaries exist for Linux and macOS)" ;;
  esac
}

detect_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "unsupported architecture: $(uname -m) (binaries exist for x86_64 and arm64); build from source with \`npm ci && npm run build\`" ;;
  esac
}

# musl (Alpine and friends) needs its own build; glibc is the default.
detect_libc() {
  if [ "$1" != linux ]; then return 0; fi
  for f in /lib/ld-musl-*.so.1 /usr/lib/ld-musl-*.so.1; do
    if [ -e "$f" ]; then
      echo -musl
      return 0
    fi
  done
  if command -v ldd >/dev/null 2>&1 && ldd --version 2>&1 | grep -qi musl; then echo -musl; fi
  return 0
}

# A progress bar only for a person watching (stderr a terminal); silent in pipes, CI and logs.
download() { # url file [progress]
  progress=
  if [ "${3:-}" = progress ] && [ -t 2 ]; then progress=1; fi
  if command -v curl >/dev/null 2>&1; then
    if [ -n "$progress" ]; then
      curl -fSL --progress-bar --connect-timeout 10 --max-time 600 -o "$2" "$1" || return 1
    else
      curl -fsSL --connect-timeout 10 --max-time 600 -o "$2" "$1" || return 1
    fi
  elif command -v wget >/dev/null 2>&1; then
    if [ -z "$progress" ]; then
      wget -q -T 10 -O "$2" "$1" || return 1
    elif wget --help 2>&1 | grep -q -- --show-progress; then
      wget -q --show-progress -T 10 -O "$2" "$1" || return 1
    else
      wget -T 10 -O "$2" "$1" || return 1 # busybox: its progress bar comes without -q
    fi
  else
    die "neither curl nor wget is installed; install one of them and retry"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    die "neither sha256sum nor shasum is installed: cannot verify the download"
  fi
}

default_install_dir() {
  if [ "$(id -u)" = 0 ]; then
    echo /usr/local/bin
  elif [ -n "${HOME:-}" ]; then
    echo "$HOME/.local/bin"
  else
    die "HOME is not set; set DAEMONCTL_INSTALL_DIR"
  fi
}

main() {
  os=$(detect_os)
  arch=$(detect_arch)
  libc=$(detect_libc "$os")
  asset="daemonctl-$os-$arch$libc"

  version="${DAEMONCTL_VERSION:-latest}"
  if [ -n "${DAEMONCTL_DOWNLOAD_URL:-}" ]; then
    base="${DAEMONCTL_DOWNLOAD_URL%/}"
  elif [ "$version" != latest ]; then
    base="$REPO_URL/releases/download/v${version#v}"
  else
    base="$REPO_URL/releases/latest/download"
  fi
  dir="${DAEMONCTL_INSTALL_DIR:-$(default_install_dir)}"

  tmp=$(mktemp -d "${TMPDIR:-/tmp}/daemonctl-install.XXXXXX") || die "cannot create a temporary directory"
  say "downloading $asset from $base"
  download "$base/$asset" "$tmp/$asset" progress || die "could not download $base/$asset (check your network, DAEMONCTL_DOWNLOAD_URL and DAEMONCTL_VERSION)"
  download "$base/SHA256SUMS" "$tmp/SHA256SUMS" || die "could not download $base/SHA256SUMS"

  expected=$(grep " $asset\$" "$tmp/SHA256SUMS" | cut -d' ' -f1 | head -n 1)
  [ -n "$expected" ] || die "SHA256SUMS has no entry for $asset: this release has no build for $os-$arch$libc"
  actual=$(sha256_of "$tmp/$asset")
  if [ "$actual" != "$expected" ]; then
    die "checksum mismatch for $asset: expected sha256 $expected, got $actual (a corrupted or tampered download; nothing was installed)"
  fi

  chmod 755 "$tmp/$asset"
  "$tmp/$asset" --version >/dev/null 2>&1 || die "the downloaded $asset does not run on this machine; nothing was installed"

  created=""
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir" || die "cannot create $dir; set DAEMONCTL_INSTALL_DIR to a writable directory"
    created=1
  fi
  # Copy next to the target, then rename: the old binary is replaced in one step or not at all.
  staged="$dir/.daemonctl.install.$$"
  if ! cp "$tmp/$asset" "$staged" 2>/dev/null || ! chmod 755 "$staged" || ! mv -f "$staged" "$dir/daemonctl"; then
    rm -f "$staged"
    if [ -n "$created" ]; then rmdir "$dir" 2>/dev/null || true; fi
    die "cannot write to $dir; run as a user who can, or set DAEMONCTL_INSTALL_DIR"
  fi

  say "installed $("$dir/daemonctl" --version) to $dir/daemonctl"
  case ":${PATH:-}:" in
    *":$dir:"*) ;;
    *) say "note: $dir is not on your PATH; add it, e.g.: export PATH=\"$dir:\$PATH\"" ;;
  esac
}

main "$@"
