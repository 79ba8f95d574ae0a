"""Shared set-up for the end-to-end suites.

The suites talk to the installed "Rust (dl)" kernel (kernelspec `dl-rust`) through real Jupyter
clients. `tests/run` (what `.ci/run` and the README call) installs the kernelspec into the test
virtual environment, so `jupyter_client` finds it; the `dl-kernel` binary is found through
`DL_KERNEL_BIN` for the headless runner.

Kernels started by the suites use warm spares (dl-kernel/src/spare.rs) as they would on a
user's machine, from a directory of this run's own; the spares left at the end are stopped.
"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
KERNEL_NAME = "dl-rust"


def dl_kernel_bin() -> str:
    exe = os.environ.get("DL_KERNEL_BIN") or shutil.which("dl-kernel")
    if not exe:
        pytest.fail("DL_KERNEL_BIN is not set: run the suites through tests/run (see README)")
    return exe


@pytest.fixture(scope="session")
def kernel_bin():
    return dl_kernel_bin()


def run_kernel_binary(*args, **kw):
    return subprocess.run([dl_kernel_bin(), *args], capture_output=True, text=True, **kw)


@pytest.fixture(scope="session", autouse=True)
def spares_of_this_run(tmp_path_factory):
    os.environ["DL_KERNEL_SPARE_DIR"] = str(tmp_path_factory.mktemp("spares"))
    os.environ["DL_KERNEL_SPARE_TIMEOUT"] = "600"
    yield
    run_kernel_binary("spare", "--stop")
