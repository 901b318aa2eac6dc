"""Typed configuration: dataclasses, YAML loading and validation with precise messages.

Every key is declared once, here, with its default, type, range and one-line
description. The same declaration drives validation, ``dedupe config --init``
(a commented YAML file) and the README's reference table.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError


def _opt(
    default: Any,
    doc: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """A config field with its documentation and allowed range (``lo_open``: lo itself is excluded)."""
    meta = {"doc": doc, "lo": lo, "hi": hi, "lo_open": lo_open, "choices": choices}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class InputConfig:
    id_field: str = _opt("id", "JSONL/CSV/Parquet field holding the document id (meta.id: a nested field)")
    text_field: str = _opt("text", "JSONL/CSV/Parquet field holding the document text (meta.text: nested)")
    date_field: str = _opt(
        "date", "field holding a sortable date (ISO 8601), used by representative: earliest"
    )
    extensions: list[str] = _opt(
        [".txt", ".md"],
        "file endings read as one text each when a directory is scanned (shards of records, .jsonl, "
        ".ndjson, .csv, .parquet, maybe compressed, are read record by record)",
    )
    max_chars: int = _opt(
        10_000_000,
        "longest document read, in characters; a longer one is skipped with its size, and is never held "
        "in memory whole",
        lo=1,
    )


@dataclass(frozen=True)
class NormalizeConfig:
    nfkc: bool = _opt(
        True, "apply Unicode NFKC (folds ligatures, full-width forms, compatibility characters)"
    )
    casefold: bool = _opt(True, "fold case (Unicode casefold)")
    fold_punctuation: bool = _opt(
        True, "treat punctuation, symbols and control characters as word separators"
    )
    fold_whitespace: bool = _opt(
        True, "collapse runs of whitespace to one space (matters for char shingles; words always split on it)"
    )
    join_hyphenated: bool = _opt(
        True,
        "read a word broken by a hyphen at a line's end (exam-\\nple, as typeset and scanned text has it) "
        "as one word",
    )
    split_unspaced: bool = _opt(
        True,
        "cut text in scripts written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) into one "
        "word per character, so that word shingles there are character n-grams",
    )


@dataclass(frozen=True)
class ShingleConfig:
    kind: str = _opt("word", "shingle unit: word n-grams or char n-grams", choices=("word", "char"))
    size: int = _opt(
        3,
        "n, the number of words (or characters) in a shingle; 3 survives OCR and copy edits (see README)",
        lo=1,
        hi=64,
    )


@dataclass(frozen=True)
class MinHashConfig:
    num_perm: int = _opt(128, "number of MinHash permutations (signature length)", lo=2, hi=4096)
    seed: int = _opt(1, "seed of the permutations and of shingle hashing", lo=0, hi=2**32 - 1)
    scheme: str = _opt(
        "affine32",
        "datasketch permutation scheme the signatures follow",
        choices=("affine32", "affine64", "legacy"),
    )


@dataclass(frozen=True)
class LSHConfig:
    threshold: float = _opt(
        0.25,
        "Jaccard level LSH is tuned to find as candidates; keep it below jaccard_threshold so that "
        "trimmed copies (high containment, lower Jaccard) reach verification",
        lo=0.0,
        hi=1.0,
        lo_open=True,
    )
    bands: int | None = _opt(None, "number of bands; null derives bands and rows from threshold", lo=1)
    rows: int | None = _opt(None, "rows per band; set together with bands", lo=1)
    false_positive_weight: float = _opt(
        0.5, "weight of false positives in the bands x rows optimisation", lo=0.0, hi=1.0
    )
    false_negative_weight: float = _opt(
        0.5, "weight of false negatives in the bands x rows optimisation", lo=0.0, hi=1.0
    )
    max_bucket_size: int = _opt(
        100,
        "an LSH bucket holding more documents yields a star and a chain of pairs instead of all its pairs "
        "(linear, not quadratic, work on copies and boilerplate); how often is in the run's stats",
        lo=2,
    )
    containment_candidates: bool = _opt(
        True,
        "with shared passages off, also pair texts of very different lengths that share enough MinHash "
        "values, so a short text copied into one 2 to 20 times longer still reaches the containment rule "
        "(its Jaccard is too low for the bands; with passages on, their seeds find such pairs)",
    )


PROFILES = {
    "exact": ("identical",),
    "near": ("identical", "jaccard"),
    "syndication": ("identical", "jaccard", "containment", "aligned"),
}


@dataclass(frozen=True)
class VerifyConfig:
    profile: str = _opt(
        "syndication",
        "which rules accept a pair: exact (identical shingle sets), near (also Jaccard), syndication (also "
        "containment, and aligned passages covering the shorter text); the thresholds below say how much",
        choices=tuple(PROFILES),
    )
    jaccard_threshold: float = _opt(
        0.5,
        "accept a pair whose exact Jaccard of shingle sets is at least this",
        lo=0.0,
        hi=1.0,
        lo_open=True,
    )
    containment_threshold: float = _opt(
        0.5,
        "also accept a pair when this share of one document's shingles is in the other (trimmed reprints)",
        lo=0.0,
        hi=1.0,
        lo_open=True,
    )
    min_containment_shingles: int = _opt(
        20,
        "containment and aligned passages count only when the smaller document has at least this many "
        "shingles, so a tiny text inside a long one is not called a reprint",
        lo=1,
    )
    aligned_threshold: float = _opt(
        0.6,
        "also accept a pair when the passages aligned between the two cover this share of the shorter "
        "text's characters (reprints edited, trimmed or damaged by OCR; a short text copied into a long "
        "one); needs shared passages",
        lo=0.0,
        hi=1.0,
        lo_open=True,
    )
    distinct_figures: bool = _opt(
        True,
        "templated notices (earnings, dividends, daily market operations) share wording but not figures: "
        "when at least 2 figures stand in each document and most of the smaller set is missing from the "
        "other, the pair is not a reprint; false merges such templates",
    )

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules that accept a pair under this profile."""
        return PROFILES[self.profile]


@dataclass(frozen=True)
class ClusterConfig:
    representative: str = _opt(
        "earliest",
        "which member is a cluster's source (and is kept by dedup): the earliest date, documents without "
        "one last and ties to the longest text (with no dates: the longest); or the longest text",
        choices=("longest", "earliest"),
    )
    split_chains: bool = _opt(
        True,
        "split a cluster whose members do not all pass the acceptance rule against its source into stars "
        "around sources they do pass against: every member's scores, against its source, pass the rule",
    )


@dataclass(frozen=True)
class PassagesConfig:
    enabled: bool = _opt(True, "find shared passages (text reused across documents) and reuse clusters")
    ngram: int = _opt(3, "seed size: words in the shared n-grams that start an alignment", lo=2, hi=16)
    min_words: int = _opt(
        8, "shortest passage reported, in words shared by both sides, outside quotation marks", lo=2
    )
    min_quote_words: int = _opt(
        4,
        "shortest passage reported (shared words) when it lies inside quotation marks in both documents",
        lo=2,
    )
    max_gap: int = _opt(
        10, "words an alignment may skip on either side between two seeds (edits, insertions)", lo=0, hi=100
    )
    min_similarity: float = _opt(
        0.6,
        "lowest word-level similarity (2 x matched / total words) of an aligned pair of spans",
        lo=0.0,
        hi=1.0,
        lo_open=True,
    )
    max_name_share: float = _opt(
        0.6,
        "largest share of a passage's shared words that may be Titlecase (names, titles): strings of names "
        "and titles are stock phrases, not reuse; 1 turns the check off",
        lo=0.0,
        hi=1.0,
    )
    max_ngram_docs: int = _opt(
        8,
        "a seed n-gram found in more documents than this is paired as a star (each occurrence with one "
        "hub document) instead of every two occurrences: work linear in occurrences, nothing dropped for "
        "being popular",
        lo=2,
    )
    max_seed_pairs: int = _opt(
        50_000_000,
        "most seed pairs (pairs of occurrences of one seed n-gram, about 45 bytes each) held at once; past "
        "it, the pairs are made once, spilled to a temporary directory (TMPDIR, 16 bytes a pair) by document "
        "pair and aligned part by part (slower, never skipped; the stats say how many passes and bytes)",
        lo=1,
    )
    list_boilerplate: bool = _opt(
        True,
        "list passage groups classified as boilerplate (in many documents, at their head or tail: "
        "navigation, bylines, footers), flagged category: boilerplate; false leaves them out (counted in the stats)",
    )
    reuse_min_chars: int = _opt(
        100,
        "two documents join a reuse cluster when their shared passages cover this many characters of each",
        lo=1,
    )


@dataclass(frozen=True)
class RunConfig:
    engine: str = _opt(
        "local",
        "what runs the pipeline: this machine (local) or Apache Spark (spark, extra dedupe-text[spark]; "
        "see the spark section)",
        choices=("local", "spark"),
    )
    workers: int = _opt(1, "processes for the per-document stages (local engine)", lo=1, hi=256)
    batch_size: int = _opt(512, "documents per batch in the per-document stages", lo=1)


@dataclass(frozen=True)
class SparkConfig:
    master: str | None = _opt(
        None,
        "Spark master URL (local[2], yarn, spark://host:7077, k8s://...); null takes the one spark-submit "
        "or the environment sets, else local[*]",
    )
    partitions: int | None = _opt(
        None,
        "partitions of every shuffle (spark.sql.shuffle.partitions); null: the value spark-submit sets, "
        "else 2 per core. At scale, enough that each holds ~100-200 MB of shingle sets (docs/scaling.md)",
        lo=1,
    )
    driver_memory: str | None = _opt(
        None,
        "memory of the driver JVM (spark.driver.memory, e.g. 8g) when dedupe starts Spark itself; in "
        "local mode the executors live in the driver, so this is their memory too. null: Spark's default",
    )
    app_name: str = _opt("dedupe", "Spark application name, as the cluster manager and Spark UI show it")


@dataclass(frozen=True)
class Config:
    input: InputConfig = field(default_factory=InputConfig)
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)
    shingle: ShingleConfig = field(default_factory=ShingleConfig)
    minhash: MinHashConfig = field(default_factory=MinHashConfig)
    lsh: LSHConfig = field(default_factory=LSHConfig)
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    passages: PassagesConfig = field(default_factory=PassagesConfig)
    run: RunConfig = field(default_factory=RunConfig)
    spark: SparkConfig = field(default_factory=SparkConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, overrides: dict[str, Any]) -> Config:
        """A new config with dotted keys (``"verify.jaccard_threshold"``) set, validated like YAML."""
        data = self.to_dict()
        for dotted, value in overrides.items():
            section, _, key = dotted.partition(".")
            if section not in data or not isinstance(data[section], dict) or key not in data[section]:
                raise ConfigError(f"unknown config key '{dotted}'{_suggest(dotted, all_keys())}")
            data[section][key] = value
        return from_dict(data)


def _sections() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config)}


def all_keys() -> list[str]:
    """Every dotted config key, in declaration order."""
    return [f"{s}.{f.name}" for s, cls in _sections().items() for f in dataclasses.fields(cls)]


def _suggest(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _type_name(tp: Any) -> str:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return " or ".join("null" if a is type(None) else _type_name(a) for a in typing.get_args(tp))
    if typing.get_origin(tp) is list:
        return f"list of {_type_name(typing.get_args(tp)[0])}"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(tp, str(tp))


def _check_type(key: str, value: Any, tp: Any) -> Any:
    """Return ``value`` converted to ``tp`` when that loses nothing, else raise ConfigError naming ``key``."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _check_type(key, value, arg)
            except ConfigError:
                pass
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {_describe(value)}")
    if typing.get_origin(tp) is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected {_type_name(tp)}, got {_describe(value)}")
        (inner,) = typing.get_args(tp)
        return [_check_type(f"{key}[{i}]", v, inner) for i, v in enumerate(value)]
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
    }[tp]
    if not ok:
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {_describe(value)}")
    return float(value) if tp is float else value


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    name = _type_name(type(value)) if type(value) in (bool, int, float, str) else type(value).__name__
    text = repr(value)
    return f"{name} {text if len(text) <= 40 else text[:37] + '...'}"


def _check_range(key: str, value: Any, meta: dict[str, Any]) -> None:
    if value is None:
        return
    if meta["choices"] and value not in meta["choices"]:
        raise ConfigError(
            f"{key}: must be one of {', '.join(meta['choices'])}, got {value!r}{_suggest(value, list(meta['choices']))}"
        )
    if isinstance(value, float) and not math.isfinite(value):  # NaN passes every comparison below
        raise ConfigError(f"{key}: must be a finite number, got {value}")
    lo, hi = meta["lo"], meta["hi"]
    if lo is not None and (value <= lo if meta["lo_open"] else value < lo):
        raise ConfigError(f"{key}: must be {'>' if meta['lo_open'] else '>='} {lo}, got {value}")
    if hi is not None and value > hi:
        raise ConfigError(f"{key}: must be <= {hi}, got {value}")


def from_dict(data: Any) -> Config:
    """Build and validate a Config from nested plain data (as loaded from YAML)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config: expected a mapping of sections, got {_describe(data)}")
    sections = _sections()
    built: dict[str, Any] = {}
    for name, value in data.items():
        if name not in sections:
            raise ConfigError(f"unknown config section '{name}'{_suggest(str(name), list(sections))}")
        cls = sections[name]
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ConfigError(f"{name}: expected a mapping of keys, got {_describe(value)}")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {}
        for key, raw in value.items():
            dotted = f"{name}.{key}"
            if key not in fields:
                raise ConfigError(f"unknown config key '{dotted}'{_suggest(dotted, all_keys())}")
            checked = _check_type(dotted, raw, hints[key])
            _check_range(dotted, checked, fields[key].metadata)
            kwargs[key] = checked
        built[name] = cls(**kwargs)
    config = Config(**built)
    _check_consistency(config)
    return config


def _check_consistency(config: Config) -> None:
    lsh, num_perm = config.lsh, config.minhash.num_perm
    if (lsh.bands is None) != (lsh.rows is None):
        missing = "lsh.rows" if lsh.rows is None else "lsh.bands"
        raise ConfigError(f"{missing}: lsh.bands and lsh.rows must be set together (or both null)")
    if lsh.bands is not None and lsh.rows is not None and lsh.bands * lsh.rows > num_perm:
        raise ConfigError(
            f"lsh.bands: {lsh.bands} bands x {lsh.rows} rows = {lsh.bands * lsh.rows} exceeds "
            f"minhash.num_perm = {num_perm}"
        )
    if config.input.id_field == config.input.text_field:
        raise ConfigError(f"input.text_field: must differ from input.id_field ({config.input.id_field!r})")
    for i, ext in enumerate(config.input.extensions):
        if not ext.startswith(".") or len(ext) < 2:
            raise ConfigError(f"input.extensions[{i}]: must look like '.txt', got {ext!r}")


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Load a YAML config file (or the defaults when ``path`` is None) and apply dotted-key overrides."""
    config = from_dict(_read_yaml(path))
    return config.replace(overrides) if overrides else config


def explicit_keys(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The dotted keys a config file sets (validated), with ``overrides`` on top: what a user asked
    for, as opposed to the defaults (an index keeps its own parameters and takes only these)."""
    data = _read_yaml(path)
    from_dict(data).replace(overrides or {})  # validates the file and the overrides together
    keys = {
        f"{section}.{key}": value
        for section, values in (data or {}).items()
        for key, value in (values or {}).items()
    }
    return {**keys, **(overrides or {})}


def _read_yaml(path: str | Path | None) -> Any:
    data: Any = {}
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {p}") from None
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"config file {p} cannot be read: {err}") from None
        try:
            # a config has no use for aliases, and a few nested ones ("billion laughs") expand to
            # billions of values that validation would walk: refused before anything is built
            alias = next((t for t in yaml.scan(text) if isinstance(t, yaml.AliasToken)), None)
            if alias is not None:
                line = alias.start_mark.line + 1
                raise ConfigError(
                    f"config file {p}: YAML aliases (*{alias.value}, line {line}) are not allowed"
                )
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise ConfigError(f"config file {p}: malformed YAML{where}: {problem}") from None
    return data


def _yaml_scalar(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("...").strip()


def _range_text(meta: dict[str, Any], tp: Any) -> str:
    if meta["choices"]:
        return "one of " + ", ".join(meta["choices"])
    lo, hi = meta["lo"], meta["hi"]
    if lo is None and hi is None:
        return _type_name(tp)
    left = "(" if meta["lo_open"] else "["
    return f"{_type_name(tp)} in {left}{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"


def describe_keys() -> list[tuple[str, Any, str, str]]:
    """(dotted key, default, range, description) for every key, for docs and ``config --init``."""
    rows = []
    for name, cls in _sections().items():
        hints = typing.get_type_hints(cls)
        defaults = cls()
        for f in dataclasses.fields(cls):
            rows.append(
                (
                    f"{name}.{f.name}",
                    getattr(defaults, f.name),
                    _range_text(f.metadata, hints[f.name]),
                    f.metadata["doc"],
                )
            )
    return rows


def markdown_table() -> str:
    """Every key as a Markdown table row: the README's configuration reference (kept equal by a test)."""
    rows = ["| key | default | range | meaning |", "|---|---|---|---|"]
    rows += [
        f"| `{key}` | `{_yaml_scalar(default)}` | {rng} | {doc} |"
        for key, default, rng, doc in describe_keys()
    ]
    return "\n".join(rows) + "\n"


def dump_yaml(config: Config, comments: bool = True) -> str:
    """The config as YAML; with ``comments`` every key carries its description and range."""
    lines = []
    data = config.to_dict()
    docs = {key: (rng, doc) for key, _, rng, doc in describe_keys()}
    for section, values in data.items():
        lines.append(f"{section}:")
        for key, value in values.items():
            if comments:
                rng, doc = docs[f"{section}.{key}"]
                lines.append(f"  # {doc} ({rng})")
            lines.append(f"  {key}: {_yaml_scalar(value)}")
        if comments:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
