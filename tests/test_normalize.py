from __future__ import annotations

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
