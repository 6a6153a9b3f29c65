"""Start localstripe on 127.0.0.1:8420 for `make run` when it is installed.

The shop shows a clear 'payments unavailable' notice when it is not running.
"""
import shutil
import socket
import subprocess
import sys
from pathlib import Path

PORT = 8420


def main() -> int:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            return 0  # already running
    exe = shutil.which("localstripe") or str(Path(sys.executable).parent / "localstripe")
    if not Path(exe).exists():
        print("localstripe not installed: the shop will show 'payments unavailable'")
        return 0
    log = open(Path("instance") / "localstripe.log", "ab")
    subprocess.Popen([exe, "--port", str(PORT)], stdout=log, stderr=log, start_new_session=True)
    print(f"localstripe started on http://127.0.0.1:{PORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
