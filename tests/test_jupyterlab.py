"""The Rust (dl) kernel in JupyterLab as students use it: a real JupyterLab server started by
the suite, and Debian's Chromium driven by Selenium through Debian's chromedriver (no browser
is downloaded). A course notebook is opened as a file from disk (so JupyterLab does not trust
it), all cells are run, and the page is read: each fit cell keeps its own last epoch line, the
plots show as images, a panic shows one error with its cell line, and the notebook is not
marked modified when it opens. Screenshots go to the test's temporary directory (and to
`DL_SCREENSHOTS`, when set)."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
TOKEN = "dl-rust-test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a free port, serving a folder with the notebooks to open."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(REPO / "notebooks" / "linregr.ipynb", root)
    panic = {
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                   "source": "let values = vec![1, 2, 3];\nlet index = values.len() + 2;\nlet item = values[index];"}],
        "metadata": {"kernelspec": {"display_name": "Rust (dl)", "language": "rust", "name": "dl-rust"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    (root / "panic.ipynb").write_text(json.dumps(panic))
    port = free_port()
    log = open(root.parent / "jupyterlab.log", "w")
    # JupyterLab's own settings for this server: no news pop-up over the page.
    settings = root.parent / "lab-settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True, exist_ok=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", f"--ServerApp.token={TOKEN}",
         f"--ServerApp.root_dir={root}", "--ServerApp.ip=127.0.0.1", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT,
        env=dict(os.environ, JUPYTER_CONFIG_DIR=str(root.parent / "config"), JUPYTERLAB_SETTINGS_DIR=str(settings),
                 JUPYTERLAB_WORKSPACES_DIR=str(root.parent / "workspaces")),
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("JupyterLab did not start; see " + str(root.parent / "jupyterlab.log"))
    yield f"http://127.0.0.1:{port}", root
    server.terminate()
    server.wait(30)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(f"the browser test needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}): "
                    "apt-get install -y chromium chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"]:
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    except Exception as e:  # the message says what is missing
        pytest.fail(f"Chromium did not start through {CHROMEDRIVER}: {e}")
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def screenshot(driver, tmp_path, name):
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    extra = os.environ.get("DL_SCREENSHOTS")
    if extra and Path(extra).resolve() != tmp_path.resolve():
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)
    return path


def wait_for(driver, condition, timeout, what):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = condition()
            if last:
                return last
        except Exception as e:  # the page is still being built
            last = e
        time.sleep(0.5)
    shot = screenshot(driver, Path(os.environ.get("DL_SCREENSHOTS", "/tmp")), "timed-out")
    pytest.fail(f"timed out waiting for {what} (last: {last!r}; screenshot {shot})")


def kernel_state(base, name):
    """The execution state the server has for the kernel of notebook `name` (None before it has one)."""
    with urllib.request.urlopen(f"{base}/api/sessions?token={TOKEN}", timeout=10) as r:
        sessions = json.load(r)
    return next((s["kernel"]["execution_state"] for s in sessions if s["path"] == name and s.get("kernel")), None)


def open_notebook(driver, base, name):
    driver.get(f"{base}/lab/tree/{name}?token={TOKEN}")
    wait_for(driver, lambda: driver.find_elements("css selector", ".jp-Notebook .jp-Cell"), 120, f"{name} to open")
    # The notebook's kernel has started and answered (the server's own view of it), and the
    # page names it in the notebook's toolbar.
    wait_for(driver, lambda: kernel_state(base, name) == "idle", 600, "the kernel to be idle")
    wait_for(driver, lambda: "Rust (dl)" in driver.execute_script(
        "const p = [...document.querySelectorAll('.jp-NotebookPanel')].find(p => !p.classList.contains('lm-mod-hidden'));"
        "return p ? p.querySelector('.jp-Toolbar').textContent : '';"), 120, "the kernel's name in the toolbar")


def run_all(driver):
    """Run > Run All Cells, clicked in JupyterLab's menu bar as a student does."""
    menus = driver.find_elements("css selector", ".lm-MenuBar-itemLabel")
    next(m for m in menus if m.text == "Run").click()
    item = wait_for(driver, lambda: next((i for i in driver.find_elements("css selector", ".lm-Menu-itemLabel")
                                          if i.text == "Run All Cells"), None), 30, "the Run menu")
    item.click()


def cells(driver):
    """Per code cell: its prompt and the text of its outputs, as the page shows them."""
    return driver.execute_script("""
        const panel = [...document.querySelectorAll('.jp-NotebookPanel')].find(p => !p.classList.contains('lm-mod-hidden'));
        return [...(panel ? panel.querySelectorAll('.jp-CodeCell') : [])].map(c => ({
            prompt: (c.querySelector('.jp-InputPrompt') || {}).textContent || '',
            source: (c.querySelector('.jp-InputArea-editor') || {}).textContent || '',
            outputs: [...c.querySelectorAll('.jp-OutputArea-output')].map(o => ({
                text: o.textContent, cls: o.className,
                images: [...o.querySelectorAll('img')].map(i => (i.getAttribute('src') || '').slice(0, 22)),
            })),
        }));""")


def finished(driver):
    cs = cells(driver)
    return cs if cs and all(re.search(r"\[\d+\]", c["prompt"]) for c in cs) else None


def test_a_course_notebook_opens_unmodified_and_shows_its_saved_plots_untrusted(lab, browser, tmp_path):
    base, _ = lab
    open_notebook(browser, base, "linregr.ipynb")
    time.sleep(2)
    tab_dirty = browser.execute_script(
        "return [...document.querySelectorAll('.lm-TabBar-tab.jp-mod-dirty, .lm-TabBar-tab.jp-mod-current.jp-mod-dirty')].length")
    shot = screenshot(browser, tmp_path, "linregr-opened")
    assert tab_dirty == 0, f"the notebook is marked modified on opening ({shot})"
    saved = cells(browser)
    images = [i for c in saved for o in c["outputs"] for i in o["images"]]
    assert any(i.startswith("data:image/png") for i in images), f"no saved plot shows as an image ({shot})"
    assert not any("<Figure size" in o["text"] for c in saved for o in c["outputs"]), f"a plot shows as text ({shot})"


def run_notebook(driver, base, name, tmp_path, timeout):
    """Opens `name`, runs all its cells and waits for them; its cells and a screenshot."""
    open_notebook(driver, base, name)
    run_all(driver)
    done = wait_for(driver, lambda: finished(driver), timeout, f"every cell of {name} to run")
    return done, screenshot(driver, tmp_path, Path(name).stem)


def test_run_all_keeps_each_cells_own_output(lab, browser, tmp_path):
    base, _ = lab
    done, shot = run_notebook(browser, base, "linregr.ipynb", tmp_path, 900)
    fits = [c for c in done if ".fit(" in c["source"]]
    assert fits, [c["source"][:60] for c in done]
    for c in fits:
        text = " ".join(o["text"] for o in c["outputs"])
        epochs = re.findall(r"Epoch (\d+)/(\d+)", text)
        assert epochs and epochs[-1][0] == epochs[-1][1], f"the fit cell lost its epoch log: {text[:300]!r} ({shot})"
    predicts = [c for c in done if ".predict(" in c["source"] and ".fit(" not in c["source"]]
    for c in predicts:
        assert "Epoch" not in " ".join(o["text"] for o in c["outputs"]), f"a predict cell shows epochs ({shot})"
    images = [i for c in done for o in c["outputs"] for i in o["images"]]
    assert any(i.startswith("data:image/png") for i in images), f"no plot rendered as an image ({shot})"


def test_a_panic_shows_one_error_with_its_cell_line(lab, browser, tmp_path):
    base, _ = lab
    done, shot = run_notebook(browser, base, "panic.ipynb", tmp_path, 600)
    outputs = done[0]["outputs"]
    errors = [o for o in outputs if "jp-OutputArea-executeResult" not in o["cls"] and "index out of bounds" in o["text"]]
    assert len(outputs) == 1 and len(errors) == 1, f"{outputs} ({shot})"
    assert "--> cell:3:" in errors[0]["text"] and "let item = values[index];" in errors[0]["text"], f"{errors} ({shot})"
