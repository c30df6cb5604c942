# Shared helpers for the project's scripts (sourced, not run).

# install_packages PACKAGE...: apt-get install (as root, or through sudo).
install_packages() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: I cannot install $* without root; install it and retry" >&2
      exit 1
    fi
  fi
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}

# need COMMAND DEBIAN_PACKAGE: installs the package when the command is missing.
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "==> installing $2 (provides $1)" >&2
  install_packages "$2"
  command -v "$1" >/dev/null 2>&1 || { echo "error: installing $2 did not provide $1" >&2; exit 1; }
}

# need_packages PACKAGE...: installs the Debian packages dpkg does not list as installed.
need_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing ${missing[*]}" >&2
  install_packages "${missing[@]}"
}

# find_shared: exports XDS_SHARED_DIR, the folder holding the NIST testkit, the XML schemas and
# the docs (never copied into this repository). Looks for ./shared next to the clone or a parent.
find_shared() {
  if [ -n "${XDS_SHARED_DIR:-}" ]; then
    [ -d "$XDS_SHARED_DIR/conformance/nist-testkit" ] || { echo "error: XDS_SHARED_DIR=$XDS_SHARED_DIR has no conformance/nist-testkit" >&2; exit 1; }
    return 0
  fi
  local dir
  dir="$(pwd)"
  while [ "$dir" != "/" ]; do
    if [ -d "$dir/shared/conformance/nist-testkit" ]; then export XDS_SHARED_DIR="$dir/shared"; return 0; fi
    dir="$(dirname "$dir")"
  done
  echo "error: the shared test data (NIST testkit, schemas, docs) was not found." >&2
  echo "       Set XDS_SHARED_DIR to the folder holding conformance/nist-testkit (see README, Test data)." >&2
  exit 1
}

# step NAME COMMAND...: runs one stage with a header and its duration.
step() {
  local name="$1"; shift
  local started=$SECONDS
  echo "==> $name" >&2
  "$@"
  echo "    $name: ok ($((SECONDS - started)) s)" >&2
}

# need_build_tools: what building RocksDB needs (a C++ compiler and libclang for bindgen).
need_build_tools() {
  need c++ g++
  need clang clang
  if ! ldconfig -p 2>/dev/null | grep -q 'libclang[-.0-9]*\.so'; then
    need_package libclang-dev
  fi
}

# need_package DEBIAN_PACKAGE: installs a package that provides no command.
need_package() {
  dpkg -s "$1" >/dev/null 2>&1 && return 0
  echo "==> installing $1" >&2
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$1" >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$1" >/dev/null
  fi
}

# need_python_hl7: a Python with the non-Rust peers of the tests, from PyPI: hl7 (the HL7 MLLP
# peer of the feed tests) and grpcio-tools (the generated gRPC client of the gRPC tests), in a
# virtual environment under the target directory; exports XDS_PYTHON.
need_python_hl7() {
  local venv="${CARGO_TARGET_DIR:-target}/python-hl7"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import hl7.client, grpc_tools.protoc' 2>/dev/null; then
    echo "==> installing PyPI's hl7 and grpcio-tools into $venv" >&2
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      need_package python3-venv
      python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install -q 'hl7==0.4.5' 'grpcio-tools==1.85.1'
  fi
  XDS_PYTHON="$(cd "$venv/bin" && pwd)/python"
  export XDS_PYTHON
}
