#!/usr/bin/env python3
"""Bootstrap for a fresh machine with Python 3.11+: ``python3 dev.py demo`` or ``python3 dev.py test``.

Makes ``.venv`` beside this file, installs Gongzhi into it (again only when
pyproject.toml changed), then runs the demo or the test suite. For the
browser tests it installs Debian's chromium and a Chinese font (fonts-noto-cjk)
with apt-get when either is missing and we are root; otherwise it says what to
install.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
CHROMIUM = "/usr/bin/chromium"
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def run(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def ensure_venv(extra: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit("Gongzhi needs Python 3.11 or newer.")
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extra or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    spec = f".[{extra}]" if extra else "."
    run([BIN / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", spec], cwd=ROOT)
    stamp.write_text(digest)


def has_cjk_font() -> bool:
    """A font for Chinese text (without one, screenshots show boxes): what fontconfig says, when it is there."""
    if shutil.which("fc-list"):
        found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
        return bool(found.strip())
    return Path(CJK_FONT).exists()


def ensure_chromium() -> None:
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append("chromium")
    if not has_cjk_font():
        missing.append("fonts-noto-cjk")
    if not missing:
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-q"], env=env)
        run(["apt-get", "install", "-y", "-q", *missing], env=env)
    else:
        print("Browser tests need Debian's chromium at /usr/bin/chromium and a Chinese font: "
              f"sudo apt-get install {' '.join(missing)}", file=sys.stderr)


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    rest = sys.argv[2:]
    if what == "demo":
        ensure_venv("")
        os.execv(BIN / "gongzhi", [str(BIN / "gongzhi"), "demo", *rest])
    elif what == "test":
        ensure_venv("test")
        ensure_chromium()
        os.chdir(ROOT)
        os.execv(BIN / "python", [str(BIN / "python"), "-m", "pytest", *rest])
    else:
        sys.exit("usage: python3 dev.py demo [--port N] | python3 dev.py test [pytest args]")


if __name__ == "__main__":
    main()
