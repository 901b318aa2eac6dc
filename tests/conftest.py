from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")

SEEDS = ROOT / "seeds"

# datasketch's values are remembered on disk (dedupe.libcache): each test run starts from an empty
# cache, so the equality tests against datasketch compare with values it computes now
os.environ["DEDUPE_CACHE_DIR"] = tempfile.mkdtemp(prefix="dedupe-cache-")


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="session")
def reuters_stories() -> list[dict]:
    """The first 3,000 Reuters-21578 stories, converted from ../shared at run time."""
    import reuters

    if not reuters.available():
        pytest.fail(f"Reuters-21578 not found at {reuters.DEFAULT_DIR} (set DEDUPE_REUTERS)")
    return list(reuters.stories(limit=3000))
