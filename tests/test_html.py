"""The HTML report, opened in a real browser: Debian's chromium, driven by Playwright.

The browser is required: without it these tests fail, naming the package to install."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from dedupe.cli import main

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("DEDUPE_ARTIFACTS", ROOT / "test-artifacts"))
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    exe = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if exe is None:
        pytest.fail("the HTML report tests need Debian's chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=FLAGS)
        yield b
        b.close()


def open_report(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "request",
        lambda r: problems.append(f"network request: {r.url}") if not r.url.startswith("file:") else None,
    )
    page.goto(path.as_uri())
    return page, problems


def report(tmp_path: Path, *inputs: str | Path) -> Path:
    out = tmp_path / "report.html"
    assert main(["scan", *map(str, inputs), "-f", "html", "-o", str(out), "-q"]) == 0
    return out


def test_seeds_report_shows_the_truth_social_passage_in_all_five(browser, tmp_path, seeds_dir):
    page, problems = open_report(browser, report(tmp_path, seeds_dir))
    group = page.locator("#passage-list article").filter(has_text="Quotation in 5 documents")
    assert group.count() == 1
    assert "It was an extremely productive call" in group.locator("blockquote").text_content()
    rows = group.locator("tbody tr")
    assert rows.count() == 5
    for k in range(5):
        assert rows.nth(k).locator("mark").count() == 1, "each occurrence is highlighted in its sentence"
    assert {rows.nth(k).locator("td").first.text_content()[:3] for k in range(5)} == {
        "000",
        "001",
        "002",
        "003",
        "004",
    }

    # the side-by-side view opens on click, with the shared passage marked alike in both texts
    pair = page.locator("#reuse-list tr").filter(has_text="001_").filter(has_text="004_")
    pair.get_by_role("button", name="compare side by side").click()
    assert page.locator("#compare").is_visible()
    a, b = page.locator("#da mark").first, page.locator("#db mark").first
    assert a.get_attribute("class") == b.get_attribute("class") and a.get_attribute(
        "data-n"
    ) == b.get_attribute("data-n")
    assert "extremely productive call" in a.text_content() and "extremely productive call" in b.text_content()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "seeds-report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert problems == []


HOSTILE = [
    "<script>window.__pwned = 1</script> The Federal Reserve entered the market to arrange repurchase agreements today",
    '<img src=x onerror="window.__pwned = 2"> The Federal Reserve entered the market to arrange repurchase agreements today',
    "</script><script>window.__pwned = 3</script><!-- The Federal Reserve entered the market to arrange repurchase agreements",
    '"><svg onload="window.__pwned=4"> <b>bold</b> &amp; &lt; The Federal Reserve entered the market to arrange repurchase',
]


def test_injected_markup_stays_inert(browser, tmp_path):
    corpus = tmp_path / "hostile.jsonl"
    corpus.write_text(
        "".join(
            json.dumps({"id": f"<i>doc{k}</i>", "text": t + " agreements today, dealers said."}) + "\n"
            for k, t in enumerate(HOSTILE)
        ),
        encoding="utf-8",
    )
    page, problems = open_report(browser, report(tmp_path, corpus))
    assert page.evaluate("window.__pwned") is None
    body = page.locator("main").text_content()
    assert "<script>window.__pwned = 1</script>" in body and "<i>doc0</i>" in body
    assert page.locator("main img, main svg, main b, main i").count() == 0
    page.locator("#clusters details summary").first.click()
    page.get_by_role("button", name="compare with representative").first.click()
    assert "window.__pwned" in page.locator("#da").text_content()
    assert page.evaluate("window.__pwned") is None
    assert problems == []


def test_clusters_sort_by_keyboard(browser, tmp_path):
    base = " ".join(f"word{i} text{i % 7}" for i in range(80))
    docs = [{"id": f"a{k}", "text": base + " extra" * k} for k in range(3)]
    other = " ".join(f"other{i} thing{i % 5}" for i in range(80))
    docs += [{"id": f"b{k}", "text": other + " more" * k} for k in range(2)]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    page, problems = open_report(browser, report(tmp_path, corpus))
    sizes = page.locator("#cluster-table > tbody > tr > td:nth-child(2)")
    assert [sizes.nth(k).text_content() for k in range(sizes.count())] == ["3", "2"]
    button = page.locator("#cluster-table th button[data-sort=size]")
    button.focus()
    page.keyboard.press("Enter")
    assert page.locator("#cluster-table th[aria-sort=ascending]").count() == 1
    assert [sizes.nth(k).text_content() for k in range(sizes.count())] == ["2", "3"]
    assert problems == []


@pytest.mark.slow
def test_reuters_report_stays_usable(browser, tmp_path, reuters_stories):
    """A report over Reuters-21578 opens, pages and compares without errors (size printed for the record)."""
    import reuters

    corpus = tmp_path / "reuters.jsonl"
    reuters.write_jsonl(corpus)
    path = report(tmp_path, corpus)
    size = path.stat().st_size
    assert size < 20_000_000, size
    page, problems = open_report(browser, path)
    rows = page.locator("#cluster-table > tbody > tr")
    # each cluster says what it is about: its source's first words (Reuters: the headline)
    texts = [rows.nth(k).text_content() for k in range(5)]
    first_words = {s["id"]: " ".join(s["text"].split()[:3]) for s in reuters.stories()}
    assert all(any(doc in t and words in t for doc, words in first_words.items()) for t in texts), texts
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reuters-clusters.png"))
    page.locator("#more-clusters").click()
    assert page.locator("#cluster-table > tbody > tr").count() == 100
    first = page.locator("#cluster-table > tbody > tr").first
    first.locator("summary").click()
    first.get_by_role("button", name="compare with representative").first.click()
    assert page.locator("#compare").is_visible()
    assert problems == []
    print(f"Reuters report: {size / 1e6:.1f} MB")


def test_compare_view_marks_what_differs(browser, tmp_path, reuters_stories):
    """Comparing a member with its source marks what differs: the source's text the member
    dropped struck through, the text it added and the words it changed underlined, as the
    member's differences say, beside the shared passage."""
    source = next(s["text"] for s in reuters_stories if len(s["text"]) > 2000)
    reprint = source.replace(" the ", " a ", 1)[: int(len(source) * 0.7)]
    reprint += "\n\nLocal farmers said the rains were welcome in the county this year."
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        json.dumps({"id": "wire", "text": source})
        + "\n"
        + json.dumps({"id": "reprint", "text": reprint})
        + "\n",
        encoding="utf-8",
    )
    page, problems = open_report(browser, report(tmp_path, corpus))
    first_words = " ".join(source.split()[:5])
    assert first_words in page.locator("#cluster-table > tbody > tr").first.text_content()  # what it is about
    page.locator("#clusters details summary").first.click()
    row = page.locator("#clusters tbody tbody tr").filter(has_text="reprint")
    assert "the source" in row.text_content() and "edited" in row.text_content()
    page.get_by_role("button", name="compare with representative").first.click()
    assert page.locator("#da del.diff").count() >= 1  # the source's tail, dropped
    assert "Local farmers said" in page.locator("#db ins.diff").all_text_contents()[-1]
    assert page.locator("#db ins.diff.changed").count() >= 1
    assert "edited against the source" in page.locator("#compare-legend").text_content()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator("#compare").screenshot(path=str(ARTIFACTS / "compare-differences.png"))
    assert problems == []
