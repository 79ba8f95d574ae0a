"""The kernel against real Jupyter clients (jupyter_client, nbclient): failures, aborts, rich
output, security of the wire, interrupts."""
import contextlib
import functools
import http.server
import multiprocessing
import os
import re
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest
import zmq
from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

KERNEL = "dl-rust"
START_TIMEOUT = 600
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def kernel():
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT)
    # Wait for the engine: the first cell runs once dl-core is loaded.
    reply = kc.execute_interactive("let warmed_up = 1;", timeout=START_TIMEOUT)
    assert reply["content"]["status"] == "ok"
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def run(kc, code, timeout=120):
    outputs = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=lambda m: outputs.append(m))
    return reply["content"], outputs


def notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_kernel_info_and_counter_start_at_one():
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT)
    try:
        info = kc.kernel_info(reply=True, timeout=30)["content"]
        assert info["protocol_version"].startswith("5.")
        assert info["language_info"]["name"] == "rust"
        silent = kc.execute("let quiet = 1;", silent=True, reply=True, timeout=START_TIMEOUT)["content"]
        assert silent["status"] == "ok"
        first, _ = run(kc, "quiet + 1")
        assert first["execution_count"] == 1, "silent executions do not count"
        second, _ = run(kc, "quiet + 2")
        assert second["execution_count"] == 2
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_panicking_cell_fails_nbclient():
    nb = notebook("let a = 1;", 'assert!(a == 2, "a should be 2");', "let never = 3;")
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=300, startup_timeout=START_TIMEOUT)
    with pytest.raises(CellExecutionError) as e:
        client.execute()
    assert "a should be 2" in str(e.value)
    err = nb.cells[1].outputs[-1]
    assert err.output_type == "error" and err.ename == "panic" and err.evalue == "a should be 2"
    assert nb.cells[2].get("outputs") == [] and nb.cells[2].execution_count is None


def test_an_error_returned_with_question_mark_fails_the_cell(kernel):
    _, kc = kernel
    reply, outputs = run(kc, "let bad = boston_housing::load_data_with(3.0, 1)?;")
    assert reply["status"] == "error"
    assert reply["ename"] == "Error" and "test_split must be in [0, 1)" in reply["evalue"]
    errors = [m for m in outputs if m["msg_type"] == "error"]
    assert len(errors) == 1
    # A failure is one error output: evcxr's copy of the message on stderr is not sent.
    stderr = [m["content"]["text"] for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"]
    assert not any("test_split" in t for t in stderr), stderr


def _spin(stop):
    while not stop.is_set():
        pass


@contextlib.contextmanager
def busy_machine():
    """Three spinning processes per core, for as long as the block runs."""
    stop = multiprocessing.Event()
    hogs = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(6 * (os.cpu_count() or 2))]
    for h in hogs:
        h.start()
    try:
        yield
    finally:
        stop.set()
        for h in hogs:
            h.join()


def test_question_mark_errors_keep_their_text_on_a_busy_machine(kernel):
    """A `?` error's text reaches the kernel through the cell process's stderr, another pipe than
    its stdout and the end of the cell; on a loaded machine the two arrive in either order, and
    the error must still be the reply's evalue (a notebook run once showed only "the cell
    returned an error through `?`" after a download message on stdout)."""
    _, kc = kernel
    with busy_machine():
        for i in range(20):
            reply, _ = run(kc, f'println!("parsing"); let r{i}: u8 = "x{i}".parse::<u8>()?;')
            assert reply["status"] == "error", reply
            assert reply["evalue"] == "invalid digit found in string", reply


def test_stderr_written_as_a_cell_ends_all_arrives_before_its_reply(kernel):
    """Everything a cell wrote to stderr reaches the client before `idle` (nbclient keeps
    nothing after it), in order, on a loaded machine, including a last line without a newline;
    and the kernel's end-of-stderr fence never shows."""
    _, kc = kernel
    with busy_machine():
        for n in (1, 2000):
            reply, outputs = run(kc, f'for i in 0..{n} {{ eprintln!("line {{i}}"); }}\neprint!("unfinished {n}");')
            assert reply["status"] == "ok", reply
            text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == "stderr")
            expected = "".join(f"line {i}\n" for i in range(n)) + f"unfinished {n}"
            assert text.rstrip("\n") == expected, text[-200:]
    reply, outputs = run(kc, "let after_stderr = 1;")
    assert reply["status"] == "ok"
    assert not [m for m in outputs if m["msg_type"] == "stream"], outputs


def test_a_cell_that_points_stderr_at_stdout_gets_no_stray_text_and_no_wait():
    """The end-of-stderr fence is written into whatever pipe the cell process's stderr is; after
    `dup2(1, 2)` that is stdout, where it must not show either."""
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT)
    try:
        assert run(kc, 'unsafe extern "C" { fn dup2(old: i32, new: i32) -> i32; }')[0]["status"] == "ok"
        for code in ('unsafe { dup2(1, 2); }\neprintln!("said on stderr");', 'eprintln!("again");'):
            t0 = time.time()
            reply, outputs = run(kc, code)
            assert reply["status"] == "ok", reply
            streams = [(m["content"]["name"], m["content"]["text"]) for m in outputs if m["msg_type"] == "stream"]
            assert "".join(t for _, t in streams).strip() in ("said on stderr", "again"), streams
            assert {n for n, _ in streams} == {"stdout"}, streams
            assert time.time() - t0 < 1.8, "the kernel waited for a fence that went elsewhere"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_compile_errors_are_one_error_with_the_diagnostic(kernel):
    _, kc = kernel
    reply, outputs = run(kc, "let n: i32 = 1;\nlet m: i32 = \"text\";")
    assert reply["status"] == "error" and reply["ename"] == "CompileError"
    errors = [m for m in outputs if m["msg_type"] == "error"]
    assert len(errors) == 1
    tb = ANSI.sub("", "\n".join(errors[0]["content"]["traceback"]))
    assert "mismatched types" in tb and "--> cell:2:" in tb and "__dl_ok" not in tb, tb


def traceback_of(outputs):
    errors = [m for m in outputs if m["msg_type"] == "error"]
    assert len(errors) == 1, [m["msg_type"] for m in outputs]
    return ANSI.sub("", "\n".join(errors[0]["content"]["traceback"]))


def test_compile_errors_show_errors_only_as_rustc_prints_them(kernel):
    """Warnings are not counted as errors; a help with a suggestion is one line; the caret of
    an error on the first line of a cell that uses `?` sits under the error (the engine puts code
    of its own in front of that line)."""
    _, kc = kernel
    reply, outputs = run(kc, 'fn half(unused: i32) -> i32 { "two" }')
    assert reply["ename"] == "CompileError" and "more errors" not in reply["evalue"], reply["evalue"]
    tb = traceback_of(outputs)
    assert "warning" not in tb and "unused variable" not in tb, tb
    run(kc, "let alpha = 1;")
    _, outputs = run(kc, "alpah + 1")
    tb = traceback_of(outputs)
    assert "help: a local variable with a similar name exists: `alpha`" in tb, tb
    reply, outputs = run(kc, "let total = vec![1, 2].into_iter().sum::<i32>()?;")
    assert reply["ename"] == "CompileError"
    lines = traceback_of(outputs).splitlines()
    src = next(i for i, l in enumerate(lines) if "| let total" in l)
    assert "__dl_ok" not in lines[src] and "--> cell:1:13" in "\n".join(lines), lines
    caret = lines[src + 1]
    assert caret.index("^") - lines[src].index("let total") == len("let total = "), (lines[src], caret)


def test_a_let_whose_value_never_exists_says_why(kernel):
    _, kc = kernel
    reply, outputs = run(kc, "let z = todo!();")
    assert reply["ename"] == "CompileError" and "never exists" in reply["evalue"], reply["evalue"]


def test_a_panic_shows_the_line_of_the_cell(kernel):
    _, kc = kernel
    reply, outputs = run(kc, "let idx = 1;\nlet empty: Vec<i32> = Vec::new();\nlet third = empty[idx + 2];")
    assert reply["ename"] == "panic" and "index out of bounds" in reply["evalue"], reply
    tb = traceback_of(outputs)
    assert "--> cell:3:" in tb and "3 | let third = empty[idx + 2];" in tb, tb


def test_a_cells_value_is_its_debug_text_and_a_unit_value_shows_nothing(kernel):
    """dl-core's prelude answers evcxr's `evcxr_display()` for every `Debug` type (one compile
    per cell instead of two); the text must still be exactly Rust's `{:?}`."""
    _, kc = kernel
    expected = {
        'vec![1.5f32, -2.0]': "[1.5, -2.0]",
        '"quote \\" and é"': '"quote \\" and é"',
        'Some((1u8, \'x\'))': "Some((1, 'x'))",
    }
    for code, text in expected.items():
        reply, outputs = run(kc, code)
        assert reply["status"] == "ok", reply
        results = [m["content"]["data"] for m in outputs if m["msg_type"] == "execute_result"]
        assert results == [{"text/plain": text}], (code, results)
    for code in ("for _ in 0..2 {}", "()"):
        reply, outputs = run(kc, code)
        assert reply["status"] == "ok", reply
        assert not [m for m in outputs if m["msg_type"] == "execute_result"], code


def test_stop_on_error_aborts_the_next_cell(kernel):
    _, kc = kernel
    first = kc.execute('panic!("first fails")')
    second = kc.execute("let ran_after_failure = 1;")
    replies = {}
    while len(replies) < 2:
        msg = kc.get_shell_msg(timeout=120)
        replies[msg["parent_header"]["msg_id"]] = msg["content"]
    assert replies[first]["status"] == "error"
    assert replies[second]["status"] == "aborted"
    reply, _ = run(kc, "ran_after_failure")
    assert reply["status"] == "error", "the aborted cell must not have run"


def test_a_shutdown_queued_behind_a_failing_cell_still_ends_the_kernel():
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT)
    try:
        assert run(kc, "let warm = 1;")[0]["status"] == "ok"
        failing = kc.execute('panic!("fails")')
        # On the shell channel, queued while the cell fails: the kernel aborts the queued
        # executes, and must still obey this.
        kc.shell_channel.send(kc.session.msg("shutdown_request", {"restart": False}))
        assert kc.get_shell_msg(timeout=120)["parent_header"]["msg_id"] == failing
        deadline = time.time() + 15
        while km.is_alive() and time.time() < deadline:
            time.sleep(0.1)
        assert not km.is_alive(), "the kernel ignored a shutdown request queued behind a failure"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_two_plots_in_one_cell_both_reach_the_notebook():
    code = (
        'set_figure_format(FigureFormat::Svg);\n'
        'let mut a = Figure::new();\na.plot(&[1.0, 2.0], &[2.0, 1.0], "ro")?.title("first");\na.show()?;\n'
        'let mut b = Figure::new();\nb.plot(&[1.0, 2.0], &[1.0, 2.0], "b")?.title("second");\nb.show()?;'
    )
    nb = notebook(code)
    NotebookClient(nb, kernel_name=KERNEL, timeout=300, startup_timeout=START_TIMEOUT).execute()
    shown = [o for o in nb.cells[0].outputs if o.output_type == "display_data"]
    assert len(shown) == 2
    assert all("image/svg+xml" in o.data and "text/plain" in o.data for o in shown)
    assert re.search(r">\s*first\s*<", shown[0].data["image/svg+xml"])
    assert re.search(r">\s*second\s*<", shown[1].data["image/svg+xml"])
    nbformat.validate(nb)


def test_fit_progress_updates_in_place(kernel):
    _, kc = kernel
    code = (
        "let mut pm = Sequential::new();\npm.add(Dense::new(1).input_dim(2));\npm.compile(\"sgd\", \"mse\", &[\"mae\"])?;\n"
        "let px = Array2::<f32>::ones((20000, 2));\nlet py = Array1::<f32>::ones(20000);\npm.fit(&px, &py, 3, 4)?;"
    )
    reply, outputs = run(kc, code)
    assert reply["status"] == "ok"
    kinds = [m["msg_type"] for m in outputs]
    assert kinds.count("display_data") == 1, kinds
    ids = {m["content"]["transient"]["display_id"] for m in outputs if m["msg_type"] in ("display_data", "update_display_data")}
    assert len(ids) == 1
    final = [m for m in outputs if m["msg_type"] in ("display_data", "update_display_data")][-1]
    text = final["content"]["data"]["text/plain"]
    assert text.count("Epoch ") == 3 and "5000/5000" in text and "mae:" in text


FIT_THEN_PREDICT = (
    "let mut dm = Sequential::new();\ndm.add(Dense::new(1).input_dim(1));\ndm.compile(\"sgd\", \"mse\", &[\"mae\"])?;\n"
    "let dx = Array2::<f32>::ones((64, 1));\nlet dy = Array1::<f32>::ones(64);\ndm.fit(&dx, &dy, 3, 16)?;",
    "let dp = dm.predict(&dx)?;",
    "dm.evaluate(&dx, &dy)?;",
)


def test_each_cell_keeps_its_own_progress_output_in_the_saved_notebook():
    """A display id names one output for the life of the kernel: a later cell's progress bar
    must not update an earlier cell's (nbclient, like JupyterLab, updates every output carrying
    the id, across the notebook)."""
    nb = notebook(*FIT_THEN_PREDICT)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=300, startup_timeout=START_TIMEOUT)
    ids = []
    original = client.output

    def output(outs, msg, display_id, cell_index):
        if display_id and msg["msg_type"] == "display_data":
            ids.append(display_id)
        return original(outs, msg, display_id, cell_index)

    client.output = output
    client.execute()
    text = ["".join(o.get("data", {}).get("text/plain", "") for o in c.outputs) for c in nb.cells]
    assert "Epoch 3/3" in text[0] and "4/4" in text[0], text[0]
    assert "Epoch" not in text[1] and "2/2" in text[1], text[1]
    assert "Epoch" not in text[2] and "loss:" in text[2], text[2]
    assert len(ids) == 3 and len(set(ids)) == 3, ids


def test_display_ids_are_never_reused_after_a_restart(kernel):
    """A restarted kernel (a new session directory) starts no id over again."""
    def fit_ids(kc):
        _, outputs = run(kc, FIT_THEN_PREDICT[0])
        return {m["content"]["transient"]["display_id"] for m in outputs if m["msg_type"] == "display_data"}

    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT)
    try:
        before = fit_ids(kc)
        km.restart_kernel(now=True)
        kc.wait_for_ready(timeout=START_TIMEOUT)
        after = fit_ids(kc)
        assert before and after and not before & after, (before, after)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


LIVE_PLOT = (
    "set_figure_format(FigureFormat::Svg);\nlet mut lm = Sequential::new();\nlm.add(Dense::new(4).input_dim(2));\nlm.add(Dense::new(1));\n"
    "lm.compile(\"sgd\", \"mse\", &[\"mae\"])?;\nlet lx = Array2::<f32>::ones((4000, 2));\nlet ly = Array1::<f32>::ones(4000);\n"
    "let lh = lm.fit_with(&lx, &ly, FitOptions { epochs: 40, batch_size: 4, verbose: 0, validation_split: 0.25, live_plot: true, ..Default::default() })?;\n"
    "println!(\"{}\", lh[\"loss\"].len());"
)


def test_a_live_plot_redraws_in_place_and_the_notebook_keeps_its_last_state(kernel):
    """`FitOptions { live_plot: true, .. }`: one display, updated in place while `fit` runs, whose
    last state shows every epoch (loss and val_loss plotted, the table as text)."""
    _, kc = kernel
    reply, outputs = run(kc, LIVE_PLOT)
    assert reply["status"] == "ok", reply
    shown = [m for m in outputs if m["msg_type"] in ("display_data", "update_display_data")]
    assert [m["msg_type"] for m in shown][:1] == ["display_data"] and len(shown) >= 2, [m["msg_type"] for m in shown]
    assert {m["content"]["transient"]["display_id"] for m in shown} == {shown[0]["content"]["transient"]["display_id"]}
    first, last = shown[0]["content"]["data"], shown[-1]["content"]["data"]
    assert len(first["text/plain"].splitlines()) < 41, "the first drawing comes while training runs"
    rows = last["text/plain"].splitlines()
    assert rows[0].split() == ["epoch", "loss", "mae", "val_loss", "val_mae"] and len(rows) == 41, rows[:2]
    assert "<svg" in last["image/svg+xml"] and "val loss" in last["image/svg+xml"]
    # The notebook keeps the last state only, in place of the first display.
    nb = notebook(LIVE_PLOT)
    NotebookClient(nb, kernel_name=KERNEL, timeout=300, startup_timeout=START_TIMEOUT).execute()
    kept = [o for o in nb.cells[0].outputs if o.output_type == "display_data"]
    assert len(kept) == 1 and len(kept[0].data["text/plain"].splitlines()) == 41


def _raw_shell(km):
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"{km.transport}://{km.ip}:{km.shell_port}")
    return sock


def _reply_within(sock, session, seconds):
    if sock.poll(int(seconds * 1000)):
        return session.recv(sock, mode=0)[1]
    return None


def test_forged_unsigned_and_replayed_messages_are_ignored(kernel, tmp_path):
    km, kc = kernel
    sock = _raw_shell(km)
    marker = tmp_path / "ran"
    code = f'std::fs::OpenOptions::new().create(true).append(true).open("{marker}").unwrap(); {{ use std::io::Write; let mut f = std::fs::OpenOptions::new().append(true).open("{marker}").unwrap(); f.write_all(b"x").unwrap(); }}'
    content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False}
    good = Session(key=km.session.key, signature_scheme="hmac-sha256")
    for forger in (Session(key=b""), Session(key=b"not the key", signature_scheme="hmac-sha256")):
        forger.send(sock, "execute_request", content)
        assert _reply_within(sock, good, 5) is None, "a forged message must get no reply"
    assert not marker.exists(), "forged code must not run"
    # A correctly signed message runs once; the same bytes sent again are ignored.
    msg = good.msg("execute_request", content)
    frames = good.serialize(msg)
    sock.send_multipart(frames)
    reply = _reply_within(sock, good, 120)
    assert reply is not None and reply["content"]["status"] == "ok"
    sock.send_multipart(frames)
    assert _reply_within(sock, good, 5) is None, "a replayed message must get no reply"
    assert marker.read_text() == "x", "the replayed code must not run again"
    # The kernel keeps serving.
    assert kc.kernel_info(reply=True, timeout=30)["content"]["status"] == "ok"
    sock.close()


def test_interrupt_during_a_long_fit_keeps_the_model_and_variables(kernel):
    """Also: the fit's live plot ends showing every epoch that finished."""
    km, kc = kernel
    setup = (
        "let before_interrupt = 41;\nset_random_seed(2);\nlet mut im = Sequential::new();\n"
        "im.add(Dense::new(8).activation(\"relu\").input_dim(4));\nim.add(Dense::new(1));\n"
        "im.compile(\"adam\", \"mse\", &[])?;\nlet ix = Array2::<f32>::ones((256, 4));\nlet iy = Array1::<f32>::ones(256);"
    )
    assert run(kc, setup)[0]["status"] == "ok"
    msg_id = kc.execute("im.fit_with(&ix, &iy, FitOptions { epochs: 100_000_000, batch_size: 8, verbose: 0, live_plot: true, ..Default::default() })?;")
    time.sleep(4)
    t = time.time()
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=30)
    elapsed = time.time() - t
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt", reply["content"]
    assert elapsed < 3, f"the interrupt took {elapsed:.1f}s"
    plots = []
    while True:
        m = kc.get_iopub_msg(timeout=30)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] in ("display_data", "update_display_data"):
            plots.append(m["content"]["data"]["text/plain"])
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    r, outs = run(kc, "(before_interrupt + 1, im.history().epoch.len(), im.predict_with(&ix, 32, 0)?.nrows())")
    assert r["status"] == "ok"
    result = [m for m in outs if m["msg_type"] == "execute_result"][0]["content"]["data"]["text/plain"]
    answer, epochs, rows = result.strip("()").split(", ")
    assert (answer, rows) == ("42", "256") and int(epochs) > 0, result
    assert len(plots) >= 2 and len(plots[-1].splitlines()) == int(epochs) + 1, (len(plots), plots[-1][-200:], epochs)


def test_an_interrupted_cell_says_which_of_its_own_variables_ended_with_it(kernel):
    """A model made in the interrupted cell is gone with it; the message must not say it kept its weights."""
    km, kc = kernel
    msg_id = kc.execute(
        "let mut fresh = Sequential::new();\nfresh.add(Dense::new(1).input_dim(4));\nfresh.compile(\"sgd\", \"mse\", &[])?;\n"
        "let fx = Array2::<f32>::ones((256, 4));\nlet fy = Array1::<f32>::ones(256);\n"
        "fresh.fit_with(&fx, &fy, FitOptions { epochs: 100_000_000, verbose: 0, ..Default::default() })?;")
    time.sleep(6)
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    content = reply["content"]
    assert content["ename"] == "KeyboardInterrupt", content
    assert "own variables ended with it: fresh, fx, fy" in content["evalue"], content["evalue"]
    r, _ = run(kc, "fresh.history()")
    assert r["status"] == "error"


def test_code_that_ignores_interrupts_is_restarted_and_lost_variables_are_named():
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT)
    try:
        assert run(kc, "let kept_value = 5;", timeout=START_TIMEOUT)[0]["status"] == "ok"
        kc.execute("loop { std::thread::sleep(std::time::Duration::from_millis(100)); }")
        time.sleep(2)
        t = time.time()
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=60)["content"]
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
        assert "kept_value" in reply["evalue"] and "restarted" in reply["evalue"], reply["evalue"]
        assert time.time() - t < 15
        r, outs = run(kc, "let after_restart = Sequential::new(); 6 * 7")
        assert r["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_an_interrupt_while_dl_core_loads_is_answered_before_it_is_loaded():
    """A cold kernel loads dl-core for about ten seconds before its first cell; an interrupt in
    that time (nbclient's after a cell timeout) cancels the waiting cell at once, so the client
    does not give up on the kernel; the kernel then runs the next cell."""
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT, env=dict(os.environ, DL_KERNEL_SPARE="0"))
    try:
        msg_id = kc.execute("let early = 1;")
        time.sleep(1.0)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=START_TIMEOUT)
        assert reply["parent_header"]["msg_id"] == msg_id
        content = reply["content"]
        assert content["status"] == "error" and content["ename"] == "KeyboardInterrupt", content
        assert "before the cell ran" in content["evalue"], content
        later, _ = run(kc, "let later = 2;\nlater * 21", timeout=START_TIMEOUT)
        assert later["status"] == "ok", later
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_completion_is_filtered_for_a_student_and_typed(kernel):
    """After `v.` on a Vec: no private fields, no nightly-only methods, nothing of evcxr's, the
    name inserted without argument placeholders, and a type on every match."""
    _, kc = kernel
    run(kc, "let v = vec![1, 2, 3];")
    reply = kc.complete("v.", 2, reply=True, timeout=60)["content"]
    matches = reply["matches"]
    assert "push" in matches and "len" in matches and "iter" in matches, matches[:20]
    assert not {"buf", "evcxr_display", "push_within_capacity", "try_remove"} & set(matches), matches
    assert not any("(" in m for m in matches), [m for m in matches if "(" in m]
    types = reply["metadata"]["_jupyter_types_experimental"]
    assert [t["text"] for t in types] == matches and all(t["type"] for t in types)
    assert {t["type"] for t in types if t["text"] in ("push", "len")} == {"function"}
    reply = kc.complete("(0..3).", 7, reply=True, timeout=60)["content"]
    assert "start" in reply["matches"] and "end" in reply["matches"], "public fields stay"


def test_inspection_shows_the_method_and_clean_docs(kernel):
    _, kc = kernel
    run(kc, "let v = vec![1, 2, 3];")
    text = kc.inspect("v.len()", 4, reply=True, timeout=60)["content"]["data"]["text/plain"]
    assert "pub const fn len(&self) -> usize" in text and "len: usize" not in text.replace("fn len(&self) -> usize", ""), text
    text = kc.inspect("Sequential", 5, reply=True, timeout=60)["content"]["data"]["text/plain"]
    assert "pub struct Sequential" in text and "pub(crate)" not in text and "# Ok::<" not in text, text


def test_usage_request_is_answered_with_the_kernels_memory(kernel):
    """jupyter-resource-usage asks on the control channel; the kernel's memory counts its own
    resident memory and the process that runs the cells (read back from /proc)."""
    km, kc = kernel
    msg = kc.session.msg("usage_request", {})
    kc.control_channel.send(msg)
    reply = kc.control_channel.get_msg(timeout=10)
    assert reply["msg_type"] == "usage_reply" and reply["parent_header"]["msg_id"] == msg["header"]["msg_id"]
    c = reply["content"]
    own = next(int(l.split()[1]) * 1024 for l in Path(f"/proc/{c['pid']}/status").read_text().splitlines()
               if l.startswith("VmRSS:"))
    assert c["kernel_memory"] > own > 0, (c["kernel_memory"], own)
    assert c["host_virtual_memory"]["total"] > c["host_virtual_memory"]["available"] > 0
    assert c["cpu_count"] >= 1 and c["kernel_cpu"] >= 0


def test_the_installed_kernelspec_has_its_logos():
    """JupyterLab's Launcher shows logo-64x64.png when the kernelspec holds it (else a letter tile)."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    png = (Path(spec.resource_dir) / "logo-64x64.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == 64
    assert (Path(spec.resource_dir) / "logo-32x32.png").exists()
    assert b"<svg" in (Path(spec.resource_dir) / "logo-svg.svg").read_bytes()


def test_history_is_complete_and_comms(kernel):
    _, kc = kernel
    run(kc, "let hist_probe = 123;")
    tail = kc.history(hist_access_type="tail", n=1, reply=True, timeout=30)["content"]["history"]
    assert tail[-1][2] == "let hist_probe = 123;"
    found = kc.history(hist_access_type="search", pattern="let hist_*", reply=True, timeout=30)["content"]["history"]
    assert any(h[2] == "let hist_probe = 123;" for h in found)
    def is_complete(code):
        msg_id = kc.is_complete(code)
        reply = kc.get_shell_msg(timeout=30)
        assert reply["parent_header"]["msg_id"] == msg_id
        return reply["content"]

    assert is_complete("fn f() {") == {"status": "incomplete", "indent": "    "}
    assert is_complete("fn f() {}")["status"] == "complete"
    assert is_complete("fn f() {})")["status"] == "invalid"
    assert kc.comm_info(reply=True, timeout=30)["content"]["comms"] == {}
    # A comm to a target the kernel does not have is closed.
    kc.session.send(kc.shell_channel.socket, "comm_open", {"comm_id": "c1", "target_name": "nothing", "data": {}})
    deadline = time.time() + 30
    while time.time() < deadline:
        m = kc.get_iopub_msg(timeout=30)
        if m["msg_type"] == "comm_close":
            assert m["content"]["comm_id"] == "c1"
            break
    else:
        pytest.fail("no comm_close")


def test_cells_download_datasets_through_the_kernel(tmp_path):
    """dl-core in cells is built without its HTTP and TLS crates; the kernel binary downloads for
    it. A local server stands in for Keras's: the file lands in KERAS_HOME behind a progress
    display, and a missing file is the usual clear error that leaves nothing in the cache."""
    data = os.environ.get("DL_DATASETS_DIR")
    if not data or not (Path(data) / "boston_housing.npz").exists():
        pytest.skip("needs Keras's boston_housing.npz in DL_DATASETS_DIR (tests/run sets it)")
    handler = functools.partial(QuietHandler, directory=data)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    env = {k: v for k, v in os.environ.items() if k != "DL_DATASETS_DIR"}
    env.update(DL_DATASETS_URL=url, KERAS_HOME=str(tmp_path))
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT, env=env)
    try:
        reply, outputs = run(kc, "let ((bx, _), _) = boston_housing::load_data()?;\nbx.shape().to_vec()", timeout=START_TIMEOUT)
        assert reply["status"] == "ok", reply
        shown = [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] in ("display_data", "update_display_data")]
        assert shown and shown[-1].startswith("57026/57026 "), shown
        result = [m for m in outputs if m["msg_type"] == "execute_result"]
        assert result[0]["content"]["data"]["text/plain"] == "[404, 13]"
        assert (tmp_path / "datasets" / "boston_housing.npz").stat().st_size == 57026

        code = f'unsafe {{ std::env::set_var("DL_DATASETS_URL", "{url}/missing") }};\nlet m = mnist::load_data()?;'
        reply, _ = run(kc, code)
        assert reply["status"] == "error"
        assert "mnist.npz is not in" in reply["evalue"] and "404" in reply["evalue"], reply["evalue"]
        assert sorted(p.name for p in (tmp_path / "datasets").iterdir()) == ["boston_housing.npz"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        server.shutdown()


def test_a_compiler_wrapper_of_the_users_own_is_kept_and_cells_still_run(tmp_path):
    """The kernel compiles cells through itself (`RUSTC_WORKSPACE_WRAPPER`, to turn off ThinLTO)
    unless the user has a compiler wrapper such as sccache: then cargo must call the user's
    wrapper with rustc itself, not with dl-kernel, which sccache would not take for a compiler."""
    log = tmp_path / "calls"
    wrapper = tmp_path / "wrapper.sh"
    wrapper.write_text(f'#!/bin/sh\necho "$1" >> "{log}"\nexec "$@"\n')
    wrapper.chmod(0o755)
    env = dict(os.environ, RUSTC_WRAPPER=str(wrapper))
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=START_TIMEOUT, env=env)
    try:
        reply, outputs = run(kc, "let wrapped = 20;\nwrapped + 1", timeout=START_TIMEOUT)
        assert reply["status"] == "ok", reply
        assert [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"] == ["21"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    compilers = log.read_text().split()
    assert compilers, "the user's wrapper was never called"
    assert all(Path(c).name.startswith("rustc") for c in compilers), compilers


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
