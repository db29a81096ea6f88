#!/usr/bin/env bash
# The programs VidGen needs beside Python: ffmpeg, espeak-ng, a font, and Python's venv.
# Installs what is missing with apt-get (through sudo when not root) or brew; elsewhere it
# names what to install. Does nothing when everything is there.
set -euo pipefail

missing=()
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
[ ${#missing[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing with apt-get: ffmpeg espeak-ng fonts-dejavu-core python3-venv"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    ffmpeg espeak-ng fonts-dejavu-core python3-venv >/dev/null
elif command -v brew >/dev/null; then
  echo "installing with brew: ffmpeg espeak-ng font-dejavu"
  brew install ffmpeg espeak-ng
  brew install --cask font-dejavu || true
else
  echo "VidGen needs these programs, which this script cannot install here:" >&2
  echo "  ffmpeg (with ffprobe), espeak-ng, the DejaVu fonts, and Python 3.10+ with venv" >&2
  echo "install them with your system's package manager, then run make again" >&2
  exit 1
fi
