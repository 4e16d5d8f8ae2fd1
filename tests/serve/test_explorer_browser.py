"""The explorer page in a real browser: headless Debian Chromium driven by Playwright, against `embedkit serve`
on real GloVe 6B 50d and a second set (a 20-d PCA of GloVe's 50k most frequent words).

Types a word and uses the autocomplete by keyboard, reads the neighbour list, runs an analogy, switches sets,
compares two sets side by side, checks a narrow window and that nothing is fetched from another host, and
saves screenshots (``tmp_path``; also into ``$EMBEDKIT_SCREENSHOT_DIR`` when set, e.g. ``docs/``). The
browser is the system's ``/usr/bin/chromium`` (``scripts/test.sh`` installs it); without it this test fails.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
# The flags known to work on these machines (closed network: no background connections).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def glove_sets(tmp_path_factory, glove50) -> dict[str, Path]:
    """GloVe 50d as a native set, and a 20-d PCA of its 50k most frequent words."""
    from embedkit.vectors.word_vectors import WordVectors

    root = tmp_path_factory.mktemp("explorer_sets")
    glove50.save(root / "glove")
    head = np.asarray(glove50.vectors[:50_000], dtype=np.float32)
    centred = head - head.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    WordVectors(glove50.keys[:50_000], (centred @ vt[:20].T).astype(np.float32)).save(root / "glove-pca20")
    return {"glove": root / "glove", "glove-pca20": root / "glove-pca20"}


def _api(url: str, path: str) -> dict:
    with urllib.request.urlopen(url + path, timeout=60) as r:
        return json.loads(r.read())


def _browser_or_fail():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"The explorer test needs Debian's Chromium at {CHROMIUM}; install it with "
                    "`apt-get install -y chromium` (scripts/test.sh does). Received: no browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("The explorer test needs Playwright for Python (pip install -e '.[test]'). "
                    "Received: no playwright module")
    return sync_playwright


def test_explorer_in_chromium(glove_sets, serve, tmp_path) -> None:
    sync_playwright = _browser_or_fail()
    s = serve("--vectors", f"glove={glove_sets['glove']},glove-pca20={glove_sets['glove-pca20']}")
    url = s.url
    expected = _api(url, "v1/neighbours?word=surf&k=10&set=glove")
    requests: list[str] = []
    problems: list[str] = []
    failed: list[str] = []
    shots = [tmp_path / "explorer.png", tmp_path / "explorer-narrow.png"]
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            page.on("console", lambda m: problems.append(m.text)
                    if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(url)
            page.wait_for_selector("body[data-ready=true]")
            assert page.evaluate("document.activeElement.id") == "word"  # ready to type

            # Type a word: the autocomplete offers completions, most frequent first.
            page.locator("#word").press_sequentially("beac", delay=60)
            page.wait_for_selector("#suggestions li")
            first_completion = page.locator("#suggestions li").first.inner_text().split("\n")[0]
            assert first_completion == _api(url, "v1/complete?prefix=beac&limit=8")["completions"][0]["word"]
            page.keyboard.press("ArrowDown")
            assert page.locator("#suggestions li").first.get_attribute("aria-selected") == "true"
            assert page.locator("#word").get_attribute("aria-activedescendant") == "suggestion-0"
            page.keyboard.press("Enter")  # picks the highlighted completion and searches it
            page.wait_for_function("() => document.querySelectorAll('.neighbours li').length === 10")
            assert page.locator("#word").input_value() == first_completion
            assert page.locator(".column h3").first.inner_text().startswith("glove")

            # A typed word, searched with Enter: the list is the API's (= the CLI's), with cosines.
            page.locator("#word").fill("surf")
            page.keyboard.press("Escape")
            page.keyboard.press("Enter")
            page.wait_for_function("() => document.querySelector('.neighbours li .word')?.textContent === "
                                   f"{json.dumps(expected['neighbours'][0]['word'])}")
            shown = page.locator(".neighbours li .word").all_inner_texts()
            scores = page.locator(".neighbours li .score").all_inner_texts()
            assert shown == [n["word"] for n in expected["neighbours"]]
            assert scores == [f"{n['score']:.4f}" for n in expected["neighbours"]]
            assert page.locator(".map svg circle").count() == 11  # the word and its 10 neighbours on the map
            assert "#word=surf" in page.url

            # An unknown word: the error line and its close matches, which are buttons.
            page.locator("#word").fill("surff")
            page.keyboard.press("Escape")
            page.keyboard.press("Enter")
            page.wait_for_selector(".column .error")
            assert "not in the vocabulary" in page.locator(".column .error").inner_text()
            page.locator(".column .error .word", has_text="surf").first.click()
            page.wait_for_function("() => document.querySelectorAll('.neighbours li').length === 10")

            # An analogy, by keyboard.
            page.locator("#a").fill("man")
            page.locator("#b").fill("king")
            page.locator("#c").fill("woman")
            page.locator("#c").press("Enter")
            page.wait_for_selector("#analogy-results li")
            assert page.locator("#analogy-results li .word").first.inner_text() == "queen"
            page.locator("#method").select_option("3cosmul")
            page.locator("#analogy-form button").click()
            page.wait_for_function("() => document.querySelector('#analogy-status').textContent.includes('3CosMul')")
            assert page.locator("#analogy-results li .word").first.inner_text() == "queen"

            # Switch sets: the list is the other set's.
            page.locator("#set").select_option("glove-pca20")
            pca = _api(url, "v1/neighbours?word=surf&k=10&set=glove-pca20")
            page.wait_for_function("() => document.querySelector('.column h3').textContent.startsWith('glove-pca20')")
            page.wait_for_function("() => document.querySelector('.neighbours li .word')?.textContent === "
                                   f"{json.dumps(pca['neighbours'][0]['word'])}")
            assert page.locator(".neighbours li .word").all_inner_texts() == [n["word"] for n in pca["neighbours"]]

            # Two sets side by side, with the overlap of their lists.
            page.locator("#set").select_option("glove")
            page.locator("#other").select_option("glove-pca20")
            page.wait_for_function("() => document.querySelectorAll('.column').length === 2 && "
                                   "!document.querySelector('#overlap').hidden")
            compare = _api(url, "v1/compare?word=surf&other=glove-pca20&k=10")
            overlap = page.locator("#overlap").inner_text()
            assert overlap.startswith(f"{compare['overlap']} of 10 neighbours shared by glove and glove-pca20")
            assert page.locator(".column").nth(0).locator("li.shared").count() == compare["overlap"]
            assert page.locator(".column").nth(1).locator("li.shared").count() == compare["overlap"]
            page.keyboard.press("Tab")
            page.evaluate("document.activeElement.blur()")
            page.keyboard.press("/")  # the search box, from anywhere
            assert page.evaluate("document.activeElement.id") == "word"
            page.evaluate("document.activeElement.blur()")
            page.screenshot(path=str(shots[0]), full_page=True)

            # A narrow window: one column under the other, nothing wider than the window.
            page.set_viewport_size({"width": 380, "height": 800})
            page.wait_for_timeout(200)
            boxes = [page.locator(".column").nth(i).bounding_box() for i in range(2)]
            assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"] - 1 and boxes[0]["width"] <= 380
            assert page.evaluate("document.documentElement.scrollWidth") <= 380
            page.screenshot(path=str(shots[1]), full_page=True)
        finally:
            context.close()
    assert problems == []  # no script errors (and nothing the page's Content-Security-Policy refused)
    assert failed and all("word=surff" in u for u in failed), failed  # the one unknown word asked on purpose
    assert requests and all(r.startswith(url) for r in requests), [r for r in requests if not r.startswith(url)]
    assert all(shot.stat().st_size > 20_000 for shot in shots)
    copy_to = os.environ.get("EMBEDKIT_SCREENSHOT_DIR")
    if copy_to:
        for shot in shots:
            shutil.copyfile(shot, Path(copy_to) / shot.name)


def test_without_the_browser_the_test_fails_and_says_why(monkeypatch, tmp_path) -> None:
    import sys

    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(pytest.fail.Exception, match="install it with `apt-get install -y chromium`"):
        _browser_or_fail()


def test_real_glove_answers_equal_the_cli(glove_sets, serve) -> None:
    import subprocess
    import sys

    s = serve("--vectors", f"glove={glove_sets['glove']}")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for args, path, key in [
        (["neighbours", "surf", "-k", "10"], "v1/neighbours?word=surf&k=10", "neighbours"),
        (["neighbours", "paris", "-k", "5", "--restrict-vocab", "30000"],
         "v1/neighbours?word=paris&k=5&restrict_vocab=30000", "neighbours"),
        (["analogy", "man", "king", "woman", "--method", "mul"], "v1/analogy?a=man&b=king&c=woman&method=mul",
         "answers"),
    ]:
        cli = subprocess.run([sys.executable, "-m", "embedkit", *args, "-v", str(glove_sets["glove"]), "--json"],
                             capture_output=True, text=True, env=env, timeout=300)
        assert cli.returncode == 0, cli.stderr
        api = _api(s.url, path)
        head = {k: api[k] for k in ("query", "a", "b", "c", "method") if k in api}
        assert [{**head, **n} for n in api[key]] == [json.loads(x) for x in cli.stdout.splitlines()]
