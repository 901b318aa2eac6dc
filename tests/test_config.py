from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedupe.config import Config, all_keys, describe_keys, dump_yaml, from_dict, load_config
from dedupe.errors import ConfigError


def write(tmp_path, text: str):
    p = tmp_path / "c.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_are_valid_and_documented():
    cfg = load_config()
    assert cfg == Config()
    rows = describe_keys()
    assert [r[0] for r in rows] == all_keys()
    assert all(r[3] for r in rows), "every key has a description"


def test_yaml_overrides_and_flag_overrides_yaml(tmp_path):
    p = write(tmp_path, "verify:\n  jaccard_threshold: 0.9\nshingle:\n  size: 3\n")
    cfg = load_config(p)
    assert cfg.verify.jaccard_threshold == 0.9 and cfg.shingle.size == 3
    cfg = load_config(p, {"verify.jaccard_threshold": 0.5})
    assert cfg.verify.jaccard_threshold == 0.5 and cfg.shingle.size == 3


@pytest.mark.parametrize(
    "text, needle",
    [
        ("verify:\n  jacard_threshold: 0.9\n", "did you mean 'verify.jaccard_threshold'"),
        ("verfy:\n  jaccard_threshold: 0.9\n", "did you mean 'verify'"),
        ("verify:\n  jaccard_threshold: high\n", "verify.jaccard_threshold: expected number, got string"),
        ("verify:\n  jaccard_threshold: 0\n", "verify.jaccard_threshold: must be > 0.0"),
        ("verify:\n  jaccard_threshold: 1.5\n", "verify.jaccard_threshold: must be <= 1.0"),
        ("shingle:\n  size: 0\n", "shingle.size: must be >= 1"),
        ("shingle:\n  size: -3\n", "shingle.size: must be >= 1"),
        ("shingle:\n  size: 2.5\n", "shingle.size: expected integer"),
        ("shingle:\n  kind: words\n", "shingle.kind: must be one of word, char"),
        ("normalize:\n  nfkc: 1\n", "normalize.nfkc: expected boolean"),
        ("lsh:\n  bands: 20\n  rows: 10\n", "exceeds minhash.num_perm = 128"),
        ("lsh:\n  bands: 20\n", "set together"),
        ("verify: [1, 2]\n", "verify: expected a mapping"),
        ("- a\n- b\n", "expected a mapping of sections"),
        ("verify:\n  jaccard_threshold: 0.5: 1\n", "malformed YAML at line 2, column 25"),
    ],
)
def test_bad_config_names_the_problem(tmp_path, text, needle):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    message = str(err.value)
    assert needle in message
    assert "\n" not in message


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_unknown_override_key():
    with pytest.raises(ConfigError, match="unknown config key 'verify.jacard'"):
        Config().replace({"verify.jacard": 0.5})


def test_empty_file_gives_defaults(tmp_path):
    assert load_config(write(tmp_path, "")) == Config()


def test_init_file_is_a_valid_commented_config(tmp_path):
    text = dump_yaml(Config(), comments=True)
    assert text.count("# ") >= len(all_keys())
    assert load_config(write(tmp_path, text)) == Config()


valid_configs = st.builds(
    lambda j, c, lt, size, kind, perm, seed, scheme, rep, nfkc: from_dict(
        {
            "verify": {"jaccard_threshold": j, "containment_threshold": c},
            "lsh": {"threshold": lt},
            "shingle": {"size": size, "kind": kind},
            "minhash": {"num_perm": perm, "seed": seed, "scheme": scheme},
            "cluster": {"representative": rep},
            "normalize": {"nfkc": nfkc},
        }
    ),
    st.floats(0.01, 1.0),
    st.floats(0.01, 1.0),
    st.floats(0.01, 1.0),
    st.integers(1, 64),
    st.sampled_from(["word", "char"]),
    st.integers(2, 4096),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["affine32", "affine64", "legacy"]),
    st.sampled_from(["longest", "earliest"]),
    st.booleans(),
)


@given(valid_configs, st.booleans())
def test_dump_and_load_round_trip(tmp_path_factory, cfg, comments):
    p = tmp_path_factory.mktemp("rt") / "c.yaml"
    p.write_text(dump_yaml(cfg, comments=comments), encoding="utf-8")
    assert load_config(p) == cfg
    assert dataclasses.asdict(load_config(p)) == cfg.to_dict()


def test_readme_documents_every_key_as_it_is():
    from pathlib import Path

    from dedupe.config import markdown_table

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, (
        "README's configuration table is stale: paste dedupe.config.markdown_table()"
    )


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_refused(value):
    """NaN passes every range comparison, and an infinite threshold is no threshold: both are
    refused naming the key, from YAML and from flags alike."""
    with pytest.raises(ConfigError, match="lsh.threshold: must be a finite number"):
        Config().replace({"lsh.threshold": float(value)})
    with pytest.raises(ConfigError, match="verify.jaccard_threshold: must be a finite number"):
        from_dict({"verify": {"jaccard_threshold": float(value)}})


def test_yaml_aliases_are_refused_before_anything_is_built(tmp_path):
    """A billion-laughs config (nested aliases) is refused at once, naming the alias and its line."""
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for prev, name in zip("abcdefg", "bcdefgh"):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"YAML aliases \(\*a, line 2\) are not allowed"):
        load_config(bomb)
