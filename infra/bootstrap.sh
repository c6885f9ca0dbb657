#!/usr/bin/env bash
# Install what Backoffice needs on a Debian machine, idempotently and quickly when it is there.
#   infra/bootstrap.sh demo   system packages for the pipeline + the Python environment
#   infra/bootstrap.sh test   the above + the real services the tests start (PostgreSQL, ...)
set -euo pipefail
cd "$(dirname "$0")/.."

purpose="${1:-demo}"
packages=(tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng tesseract-ocr-osd poppler-utils
          ghostscript qpdf fonts-dejavu-core fonts-liberation fonts-freefont-ttf)
if [[ "$purpose" == "test" ]]; then
    packages+=(postgresql dovecot-imapd openssl chromium)
fi

missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "Installing system packages: ${missing[*]}"
    sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
if ! command -v uv >/dev/null 2>&1; then
    "$python" -m pip install --quiet --user uv 2>/dev/null || "$python" -m pip install --quiet uv
    export PATH="$HOME/.local/bin:$PATH"
fi
extras=()
[[ "$purpose" == "test" ]] && extras=(--extra dev)
uv sync --frozen --quiet --python "$python" "${extras[@]}"
