#!/usr/bin/env bash
# The programs VidGen needs beside Python: ffmpeg, espeak-ng, fonts, and Python's venv.
# Fonts: DejaVu Sans, plus Noto for the other writing systems (fonts-noto-core: Arabic,
# Hebrew, Devanagari, Thai...; fonts-noto-cjk: Chinese, Japanese, Korean), FriBiDi for
# Pillow's raqm (right-to-left text on cards) and libthai (Thai line breaking).
# Installs what is missing with apt-get (through sudo when not root) or brew; elsewhere it
# names what to install. Does nothing when everything is there.
# --browser (make test) also installs Chromium, for the web monitor's browser tests.
set -euo pipefail

missing=()
browser=0
if [ "${1:-}" = "--browser" ]; then browser=1; fi
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
python3 -c "import venv, ensurepip" 2>/dev/null || missing+=(python3-venv)
font=0
for f in /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /Library/Fonts/DejaVuSans.ttf \
         /opt/homebrew/share/fonts/DejaVuSans.ttf "$HOME/Library/Fonts/DejaVuSans.ttf"; do
  [ -f "$f" ] && font=1
done
[ "$font" = 1 ] || missing+=(font)
if command -v apt-get >/dev/null; then  # the writing systems: checked where apt can add them
  [ -f /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf ] || missing+=(fonts-noto-core)
  [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
  /sbin/ldconfig -p 2>/dev/null | grep -q 'libfribidi\.so\.0' || missing+=(libfribidi0)
  /sbin/ldconfig -p 2>/dev/null | grep -q 'libthai\.so\.0' || missing+=(libthai0)
fi
if [ "$browser" = 1 ]; then
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
  # Playwright's bundled node driver links libatomic, which a minimal Debian lacks.
  /sbin/ldconfig -p 2>/dev/null | grep -q 'libatomic\.so\.1' || missing+=(libatomic1)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  packages=(ffmpeg espeak-ng fonts-dejavu-core python3-venv
            fonts-noto-core fonts-noto-cjk libfribidi0 libraqm0 libthai0)
  if [ "$browser" = 1 ]; then packages+=(chromium libatomic1); fi
  echo "installing with apt-get: ${packages[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" >/dev/null
elif command -v brew >/dev/null; then
  echo "installing with brew: ffmpeg espeak-ng font-dejavu"
  brew install ffmpeg espeak-ng fribidi
  brew install --cask font-dejavu font-noto-sans font-noto-sans-cjk font-noto-sans-arabic \
    font-noto-sans-hebrew font-noto-sans-devanagari font-noto-sans-thai || true
  if [ "$browser" = 1 ]; then brew install --cask chromium || true; fi
else
  echo "VidGen needs these programs, which this script cannot install here:" >&2
  echo "  ffmpeg (with ffprobe), espeak-ng, the DejaVu and Noto (core, CJK) fonts, FriBiDi," >&2
  echo "  and Python 3.10+ with venv" >&2
  if [ "$browser" = 1 ]; then echo "  chromium (for the browser tests)" >&2; fi
  echo "install them with your system's package manager, then run make again" >&2
  exit 1
fi
