#!/usr/bin/env bash
# Installs the Debian 12 packages Touchpoint needs to build, test and run.
# Idempotent: only missing packages are installed. Works as root or via sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libboost-filesystem-dev libboost-system-dev
  libsimdjson-dev libpoco-dev libyaml-cpp-dev libsqlite3-dev sqlite3
  libphonenumber-dev libsystemd-dev libcurl4-openssl-dev libssl-dev
  libgtest-dev libgmock-dev nlohmann-json3-dev zlib1g-dev binutils curl ccache abigail-tools clang-format
  libre2-dev clang libclang-rt-14-dev util-linux
  # the executables' heap allocator (cmake/TouchpointAllocator.cmake)
  libmimalloc-dev
  # Lua transforms (core/transform/lua_*), the plugin loader's export check (libelf),
  # `touchpoint docs` (cmark-gfm renders its HTML, Graphviz draws the data flow)
  liblua5.4-dev libelf-dev libcmark-gfm-dev libcmark-gfm-extensions-dev graphviz
  libhowardhinnant-date-dev tzdata faketime
  # the channel plugins: MIME and templates, and the real servers their tests start
  libgmime-3.0-dev libkainjow-mustache-dev postfix dovecot-imapd openssh-server
  # the tryton CRM connector's tests run a real Tryton server (tests/fixtures/tryton)
  tryton-server tryton-modules-party tryton-modules-sale-opportunity
  # the dashboard draws with Debian's Chart.js; its tests open it in headless Chromium (tests/browser)
  libjs-chart.js chromium fonts-dejavu-core
)

# The Segment client the web collect API is tested with runs on Node.js
# (Debian's nodejs and npm, unless a Node.js is already installed).
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  echo "installing: ${missing[*]}"
  # postfix asks for a mail setup on install; the tests write their own configuration.
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Debian starts the freshly installed Tryton as a service on port 8000; the
  # tests start their own servers, so one installed here for them stays off.
  if [[ " ${missing[*]} " == *" tryton-server "* ]] && [[ -d /run/systemd/system ]]; then
    $SUDO systemctl disable --now tryton-server.service >/dev/null 2>&1 || true
  fi
fi
