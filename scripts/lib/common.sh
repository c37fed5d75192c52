# Shared by scripts/demo and scripts/test. Sourced, not run.

# apt_install PKG…: install Debian packages that are missing (as root, non-interactively).
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "需要安装系统软件包：${missing[*]}（请以 root 运行，或先手动安装）" >&2
    return 1
  fi
  echo ">> apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_venv: .venv with the project installed (editable) plus the given extras.
ensure_venv() {
  local extras="${1:-}"
  if ! python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "需要 Python 3.11 或更高版本。" >&2
    return 1
  fi
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    apt_install python3-venv
  fi
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # skip the install when nothing it depends on changed since the last one (a clean clone always installs)
  local stamp=".venv/.jiuzhu-installed" want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1) ${extras}"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}"
  echo "$want" > "$stamp"
}
