"""Warm spare kernels (dl-kernel/src/spare.rs) through a real client (jupyter_client): a new
kernel is served by the waiting spare, in the client's working directory and with its
per-kernel variables; the kernel ends with the process Jupyter started (shutdown or kill);
a restart gets its ports back; a spare started from another environment is not used; bad
requests on the spare's socket are refused while it keeps waiting; unused spares leave."""
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

from conftest import dl_kernel_bin, run_kernel_binary

KERNEL = "dl-rust"
START_TIMEOUT = 600


@pytest.fixture
def spare_env(tmp_path):
    """An environment whose spares live in their own directory, stopped afterwards."""
    env = dict(os.environ, DL_KERNEL_SPARE_DIR=str(tmp_path / "spares"), DL_KERNEL_SPARE="1")
    yield env
    run_kernel_binary("spare", "--stop", env=env)


def warm_spare(env):
    r = run_kernel_binary("spare", "--wait", env=env, timeout=START_TIMEOUT)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pid, limit=15):
    t0 = time.time()
    while alive(pid) and time.time() - t0 < limit:
        time.sleep(0.1)
    return not alive(pid)


def stdout_of(kc, code):
    out = []
    reply = kc.execute_interactive(
        code, timeout=120,
        output_hook=lambda m: out.append(m["content"]["text"]) if m["msg_type"] == "stream" and m["content"]["name"] == "stdout" else None)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(out).strip()


WHO = 'println!("{} {:?}", std::os::unix::process::parent_id(), std::env::var("JPY_SESSION_NAME"));'


def test_a_new_kernel_is_served_by_the_warm_spare_in_the_clients_directory(spare_env, tmp_path):
    pid = warm_spare(spare_env)
    work = tmp_path / "lesson"
    work.mkdir()
    (work / "notes.txt").write_text("relative paths work")
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT, cwd=str(work),
                              env=dict(spare_env, JPY_SESSION_NAME="lesson 1.ipynb"))
    try:
        # The cells run in the spare's process (their parent), which has the client's directory
        # and per-kernel variable, and dl-core's prelude.
        assert stdout_of(kc, WHO) == f'{pid} Ok("lesson 1.ipynb")'
        assert stdout_of(kc, 'println!("{}", std::fs::read_to_string("notes.txt")?);') == "relative paths work"
        assert stdout_of(kc, 'let m = Sequential::new();\nprintln!("{}", m.count_params());') == "0"
        time.sleep(7)  # longer than any time-out of the hand-over: the kernel once left after 5 s
        assert stdout_of(kc, 'println!("{}", m.count_params() + 1);') == "1"
        stand_in = km.provisioner.process
        assert stand_in.pid != pid
    finally:
        kc.stop_channels()
        km.shutdown_kernel()
    assert stand_in.poll() == 0, "the process Jupyter started ends when the kernel does"
    assert wait_gone(pid), "the kernel (the former spare) ends on shutdown"


def test_the_clients_variables_survive_a_restart_of_the_cell_process(spare_env, tmp_path):
    warm_spare(spare_env)
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT, cwd=str(tmp_path),
                              env=dict(spare_env, JPY_SESSION_NAME="restarted.ipynb"))
    try:
        assert stdout_of(kc, "let lost = 1;") == ""
        kc.execute("loop { std::thread::sleep(std::time::Duration::from_millis(100)); }")
        time.sleep(2)
        km.interrupt_kernel()  # ignored by the loop: the cell process is restarted
        reply = kc.get_shell_msg(timeout=60)["content"]
        assert reply["ename"] == "KeyboardInterrupt" and "lost" in reply["evalue"], reply
        assert stdout_of(kc, 'println!("{:?} {:?}", std::env::var("JPY_SESSION_NAME"), std::env::current_dir()?);') == \
            f'Ok("restarted.ipynb") "{tmp_path}"'
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_killing_the_process_jupyter_started_ends_the_kernel(spare_env):
    pid = warm_spare(spare_env)
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT, env=spare_env)
    try:
        assert stdout_of(kc, WHO).startswith(f"{pid} ")
        os.kill(km.provisioner.process.pid, signal.SIGKILL)
        assert wait_gone(pid), "the kernel outlived the process Jupyter started"
    finally:
        kc.stop_channels()
        km.cleanup_resources()


def test_a_restarted_kernel_gets_its_ports_back(spare_env):
    warm_spare(spare_env)
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT, env=spare_env)
    try:
        assert stdout_of(kc, 'let before_restart = 1; println!("set");') == "set"
        km.restart_kernel()
        kc.wait_for_ready(timeout=START_TIMEOUT)
        assert stdout_of(kc, 'println!("{}", 40 + 2);') == "42"
        reply = kc.execute_interactive("before_restart", timeout=120, output_hook=lambda m: None)
        assert reply["content"]["status"] == "error", "a restart starts from a new kernel"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_spare_from_another_environment_is_not_used_nor_replaced_by_an_idle_kernel(spare_env):
    """An idle kernel makes sure a spare waits, but leaves another environment's spare alone:
    two idle kernels of different environments once replaced each other's spare every second,
    so that no spare ever got warm and a core stayed busy."""
    pid = warm_spare(spare_env)
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT,
                              env=dict(spare_env, KERAS_HOME="/nonexistent/other-keras-home"))
    try:
        parent = stdout_of(kc, WHO).split()[0]
        assert parent != str(pid)
        assert stdout_of(kc, 'println!("{:?}", std::env::var("KERAS_HOME"));') == 'Ok("/nonexistent/other-keras-home")'
        time.sleep(6)  # idle for longer than a kernel waits before it looks for a spare (3 s)
        assert alive(pid), "the spare still waits for a kernel of its own environment"
        spares = Path(spare_env["DL_KERNEL_SPARE_DIR"])
        assert len(list(spares.glob("*.sock"))) == 1, "the idle kernel started no spare of its own"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_the_spare_refuses_bad_requests_and_keeps_waiting(spare_env, tmp_path):
    pid = warm_spare(spare_env)
    [sock] = Path(spare_env["DL_KERNEL_SPARE_DIR"]).glob("*.sock")
    connection = {"ip": "127.0.0.1", "transport": "tcp", "shell_port": 1, "iopub_port": 2, "stdin_port": 3,
                  "control_port": 4, "hb_port": 5, "key": "k", "signature_scheme": "hmac-sha256"}
    bad = [
        b"not json\n",
        json.dumps({"connection": {"ip": "127.0.0.1"}, "cwd": str(tmp_path), "env": {}}).encode() + b"\n",
        json.dumps({"connection": connection, "cwd": "relative/dir", "env": {}}).encode() + b"\n",
        json.dumps({"connection": connection, "cwd": str(tmp_path), "env": {"LD_PRELOAD": "/tmp/evil.so"}}).encode() + b"\n",
    ]
    for payload in bad:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(str(sock))
            s.sendall(payload)
            answer = s.recv(4096)
        assert answer.startswith(b"refused"), (payload, answer)
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT, env=spare_env)
    try:
        assert stdout_of(kc, WHO).startswith(f"{pid} "), "after refusing, the spare still serves a real client"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_unused_and_stopped_spares_leave(spare_env):
    spares = Path(spare_env["DL_KERNEL_SPARE_DIR"])
    brief = subprocess.Popen([dl_kernel_bin(), "kernel", "--spare"], env=dict(spare_env, DL_KERNEL_SPARE_TIMEOUT="2"),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert brief.wait(timeout=60) == 0
    assert not list(spares.glob("*.sock")), "a spare that left removes its socket"
    pid = warm_spare(spare_env)
    assert run_kernel_binary("spare", "--stop", env=spare_env).stdout.strip() == "asked 1 spare kernel(s) to stop"
    assert wait_gone(pid)
    assert not list(spares.glob("*.sock")) and not list(spares.glob("*.warm"))


def test_a_spare_left_by_a_kernel_holds_no_pipe_of_the_client(spare_env):
    """nbconvert and pytest read a child's output to its end; a spare left behind by a kernel
    they started must not keep that end open (it once did, through the kernel's log file)."""
    script = textwrap.dedent("""
        from jupyter_client.manager import start_new_kernel
        km, kc = start_new_kernel(kernel_name="dl-rust", startup_timeout=600)
        assert kc.execute_interactive("let a = 1;", timeout=600)["content"]["status"] == "ok"
        kc.stop_channels()
        km.shutdown_kernel()  # shut down for good: leaves a spare for the next kernel
        print("done")
    """)
    client = subprocess.Popen([sys.executable, "-c", script], env=spare_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert client.wait(timeout=START_TIMEOUT) == 0
    out = []
    reader = threading.Thread(target=lambda: out.append(client.stdout.read() + client.stderr.read()), daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive(), "a process the kernel started still holds the client's pipes"
    assert b"done" in out[0], out[0][-2000:]
    assert warm_spare(spare_env), "the kernel left a spare"


def test_a_spare_warmed_without_dl_core_path_serves_the_kernelspec_that_records_it(spare_env):
    """`install` records dl-core's path in the kernelspec (`env.DL_CORE_PATH`); a spare warmed
    from a shell without that variable, for the same dl-core, must still serve its kernels."""
    from jupyter_client.kernelspec import KernelSpecManager
    recorded = KernelSpecManager().get_kernel_spec(KERNEL).env.get("DL_CORE_PATH")
    assert recorded and (Path(recorded) / "Cargo.toml").is_file(), recorded
    env = {k: v for k, v in spare_env.items() if k != "DL_CORE_PATH"}
    pid = warm_spare(env)
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT, env=env)
    try:
        assert stdout_of(kc, WHO).split()[0] == str(pid)
    finally:
        kc.stop_channels()
        km.shutdown_kernel()


def memory_cgroup(limit):
    """A new memory cgroup of `limit` bytes below this process's (cgroup v1 or v2), as a
    JupyterHub container has; `None` where the machine does not let the tests make one."""
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    v1 = next((l.split(":", 2)[2] for l in lines if "memory" in l.split(":")[1].split(",")), None)
    candidates = []
    if v1 is not None:
        candidates.append((Path("/sys/fs/cgroup/memory") / v1.lstrip("/"), "memory.limit_in_bytes"))
    v2 = next((l[3:] for l in lines if l.startswith("0::")), None)
    if v2 is not None:
        candidates.append((Path("/sys/fs/cgroup") / v2.lstrip("/"), "memory.max"))
    for parent, limit_file in candidates:
        d = parent / f"dl-test-{os.getpid()}"
        try:
            d.mkdir()
            (d / limit_file).write_text(str(limit))
            return d
        except OSError:
            if d.exists():
                d.rmdir()
    return None


def test_no_spare_where_the_users_container_has_no_room(spare_env):
    """In a container of 2.5 GB (a JupyterHub user's), a kernel holds about 1 GB: a spare would
    not fit with room to spare, so an idle kernel starts none; and the cells' memory limit is the
    container's, not the machine's."""
    cgroup = memory_cgroup(2_500_000_000)
    if cgroup is None:
        pytest.skip("this machine lets the tests make no memory cgroup (run as root with cgroups mounted)")
    km, kc = None, None
    try:
        from jupyter_client import KernelManager
        km = KernelManager(kernel_name=KERNEL)
        km.start_kernel(env=spare_env)
        (cgroup / "cgroup.procs").write_text(str(km.provisioner.pid))
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=START_TIMEOUT)
        reply = kc.execute_interactive("let big = vec![1u8; 4_000_000_000];\nbig.len()", timeout=START_TIMEOUT)["content"]
        assert reply["ename"] == "MemoryError", reply
        assert "cells may use 2.0 GB" in reply["evalue"] and "this container has 2.5 GB" in reply["evalue"], reply["evalue"]
        time.sleep(6)  # idle for longer than a kernel waits before it starts a spare (3 s)
        spares = Path(spare_env["DL_KERNEL_SPARE_DIR"])
        assert not any(alive_lock for alive_lock in spares.glob("*.sock")), "no spare in a full container"
    finally:
        if kc:
            kc.stop_channels()
        if km:
            km.shutdown_kernel(now=True)
        for pid in (cgroup / "cgroup.procs").read_text().split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.5)
        cgroup.rmdir()
