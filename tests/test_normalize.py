from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dedupe.config import NormalizeConfig
from dedupe.normalize import normalize_text, tokenize, words

DEFAULT = NormalizeConfig()


def test_default_folds_case_punctuation_and_width():
    assert words("It was an “Extremely” productive call, we agree.", DEFAULT) == [
        "it",
        "was",
        "an",
        "extremely",
        "productive",
        "call",
        "we",
        "agree",
    ]
    assert words("ＦＵＬＬ ﬁne Straße", DEFAULT) == ["full", "fine", "strasse"]
    assert words("Canada’s call. We agree", DEFAULT) == words("Canada's call, we agree", DEFAULT)


def test_each_step_can_be_turned_off():
    off = NormalizeConfig(nfkc=False, casefold=False, fold_punctuation=False, fold_whitespace=False)
    assert words("Call, We  agree", off) == ["Call,", "We", "agree"]
    assert normalize_text("a  b\n c", off) == "a  b\n c"
    assert normalize_text("a  b\n c", DEFAULT) == "a b c"
    assert words("ﬁne", NormalizeConfig(nfkc=False, casefold=False)) == ["ﬁne"]
    assert words("Fine", NormalizeConfig(casefold=False)) == ["Fine"]


def test_soft_hyphen_and_zero_width_are_removed_not_split():
    assert words("co\u00adoperation zero\u200bwidth", DEFAULT) == ["cooperation", "zerowidth"]


def test_tokenize_spans_slice_the_original():
    text = "“It was an extremely productive call,” he wrote.\r\nCafe\u0301 ﬁne Straße."
    toks = tokenize(text, DEFAULT)
    assert toks.words == words(text, DEFAULT)
    assert [text[a:b] for a, b in zip(toks.starts, toks.ends)] == [
        "It",
        "was",
        "an",
        "extremely",
        "productive",
        "call",
        "he",
        "wrote",
        "Cafe\u0301",
        "ﬁne",
        "Straße",
    ]


text_strategy = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200) | st.lists(
    st.sampled_from(
        ["e\u0301", "ﬁ", "ß", "İ", "ＡＢ", "“", "”", "’", " ", "\r\n", "x", "Σ", "\ud800", "①", "¨"]
    ),
    max_size=40,
).map("".join)


@given(text_strategy, st.booleans(), st.booleans(), st.booleans())
def test_span_tokenizer_agrees_with_fast_path(text, nfkc, casefold, punct):
    cfg = NormalizeConfig(nfkc=nfkc, casefold=casefold, fold_punctuation=punct)
    toks = tokenize(text, cfg)
    assert toks.words == words(text, cfg)
    for a, b in zip(toks.starts, toks.ends):
        assert 0 <= a < b <= len(text)
        assert text[a:b].strip() == text[a:b]


def test_words_broken_at_a_line_end_are_joined():
    """A word hyphenated across a line break (typeset and scanned text) is one word, its span the
    whole printed word; a hyphen between figures or before a blank line is left alone."""
    from dedupe.config import NormalizeConfig

    cfg = NormalizeConfig()
    text = "The exam-\nple was well-\r\n   known.\n1987-\n88 figures; end-\n\nNext"
    assert words(text, cfg) == ["the", "example", "was", "wellknown", "1987", "88", "figures", "end", "next"]
    toks = tokenize(text, cfg)
    assert toks.words == words(text, cfg)
    assert text[toks.starts[1] : toks.ends[1]] == "exam-\nple"
    assert text[toks.starts[3] : toks.ends[3]] == "well-\r\n   known"
    off = NormalizeConfig(join_hyphenated=False)
    assert words(text, off)[1:3] == ["exam", "ple"]


_BROKEN = st.text(alphabet="ab Z-\n\r\t19é", max_size=60)


@given(st.lists(_BROKEN, min_size=1, max_size=6), st.booleans())
def test_line_break_joining_is_the_same_in_the_kernel_and_python(texts, join):
    """The compiled word pass joins exactly the words the Python tokenizer joins, with the same
    hashes and spans (ASCII texts take the kernel; the others, Python)."""
    from dedupe.config import Config
    from dedupe.shingle import Shingler

    cfg = Config().replace({"normalize.join_hyphenated": join, "shingle.size": 2})
    shingler = Shingler(cfg)
    flat, offsets = shingler.hashes_batch(texts)
    for k, t in enumerate(texts):
        assert np.array_equal(flat[offsets[k] : offsets[k + 1]], shingler.hashes(t))
    fast = shingler.ascii_words(texts)
    if fast is None:
        return
    for k, i in enumerate(fast.rows):
        toks = tokenize(texts[i], cfg.normalize)
        a, b = fast.offsets[k], fast.offsets[k + 1]
        assert fast.starts[a:b].tolist() == toks.starts and fast.ends[a:b].tolist() == toks.ends
        assert np.array_equal(fast.hashes[a:b], shingler.token_hashes(toks.words))
