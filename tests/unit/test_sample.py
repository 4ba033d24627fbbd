"""Tests of decontam.sample: seeded, reproducible probes that are windows of the normalized question."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decontam.config import NormalizeConfig, SampleConfig
from decontam.errors import ConfigError
from decontam.normalize import normalize
from decontam.sample import ItemProbes, draw_offsets, probe_seed, sample_item, sample_items

LONG_Q = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May? Show your reasoning step by step, please."
)

questions = st.text(
    st.one_of(st.characters(max_codepoint=127), st.sampled_from("éß中𝐀٣ ?!\u0301"), st.characters()),
    max_size=150,
)
configs = st.builds(
    SampleConfig,
    length=st.integers(1, 60),
    n_probes=st.integers(1, 6),
    mode=st.sampled_from(["sample", "all"]),
    seed=st.integers(-(2**40), 2**40),
)


# ------------------------------------------------------------------------------------------ determinism


def test_same_inputs_same_probes():
    cfg = SampleConfig(length=20, n_probes=3, seed=7)
    a = sample_item("gsm8k", 12, LONG_Q, cfg)
    b = sample_item("gsm8k", 12, LONG_Q, cfg)
    assert a == b
    assert tuple(a.offsets) == tuple(b.offsets) and a.probes == b.probes


def test_probes_do_not_depend_on_the_process(tmp_path: Path):
    """Another interpreter, with another str-hash seed, draws the same offsets (no hash(), no global RNG)."""
    script = (
        "import json, sys\n"
        "from decontam.sample import sample_item\n"
        "from decontam.config import SampleConfig\n"
        "q = sys.stdin.read()\n"
        "out = [list(sample_item(b, i, q, SampleConfig(length=20, seed=s)).offsets)\n"
        "       for b, i, s in [('gsm8k', 12, 7), ('mmlu', 'x/3', 0), ('arc', 5, 123)]]\n"
        "print(json.dumps(out))\n"
    )
    repo = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONHASHSEED="12345",
               PYTHONPATH=os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")]))
    # The global random state of this process must not matter either.
    import random

    random.seed(999)
    expected = [list(sample_item(b, i, LONG_Q, SampleConfig(length=20, seed=s)).offsets)
                for b, i, s in [("gsm8k", 12, 7), ("mmlu", "x/3", 0), ("arc", 5, 123)]]
    done = subprocess.run([sys.executable, "-c", script], input=LONG_Q, capture_output=True, text=True,
                          env=env, cwd=tmp_path, check=True)
    assert json.loads(done.stdout) == expected


def test_probe_seed_is_pinned():
    """Pinned values: if these change, every published report's probes change; bump a format version then."""
    assert probe_seed(0, "gsm8k", 3, "q") == 4671585515898521509
    assert sample_item("demo", 1, "What is the capital of France? " * 3,
                       SampleConfig(length=10, n_probes=2)).probes == ("tisthecapi", "italofFran")


@pytest.mark.parametrize(
    ("change", "kwargs"),
    [
        ("seed", dict(seed=1)),
        ("benchmark name", dict(benchmark="gsm8k-v2")),
        ("item id", dict(item_id=13)),
        ("item id type", dict(item_id="12")),
        ("question text", dict(question=LONG_Q + " ")),  # same normalized text, other raw question
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_each_seed_input_changes_the_draw(change, kwargs):
    """Each of (seed, benchmark, item id, question) enters the seed: changing one redraws the probes.

    With ~170 windows and 3 probes a redraw repeats the same offsets with probability ~1e-6 per pair; 20 pairs
    are compared so a single coincidence cannot fail the test, but a field that is ignored always does.
    """
    base = dict(benchmark="gsm8k", item_id=12, question=LONG_Q, seed=0)
    differing = 0
    for k in range(20):
        a = dict(base, seed=base["seed"] + 1000 * k)
        b = dict(a, **kwargs)
        if change == "seed":
            b["seed"] = a["seed"] + 1
        pa = sample_item(a["benchmark"], a["item_id"], a["question"], SampleConfig(length=30, seed=a["seed"]))
        pb = sample_item(b["benchmark"], b["item_id"], b["question"], SampleConfig(length=30, seed=b["seed"]))
        assert pa.normalized == pb.normalized
        differing += tuple(pa.offsets) != tuple(pb.offsets)
    assert differing >= 19


def test_probe_seed_separates_fields():
    # Shifting text from one field into the next must not give the same seed.
    assert probe_seed(0, "ab", "c", "q") != probe_seed(0, "a", "bc", "q")
    assert probe_seed(0, "b", 1, "q") != probe_seed(0, "b", "1", "q")
    assert probe_seed(1, "b", 1, "q") != probe_seed(0, "b", 1, "q")


# --------------------------------------------------------------------------------------------- shape


@settings(max_examples=300, deadline=None)
@given(question=questions, cfg=configs, item_id=st.one_of(st.integers(), st.text(max_size=5)))
def test_probes_are_windows_of_the_normalized_question(question, cfg, item_id):
    item = sample_item("bench", item_id, question, cfg)
    norm = normalize(question)
    assert item.normalized == norm
    assert item.item_id == item_id
    if not norm:
        assert item.empty and item.probes == () and len(item) == 0 and item.length == 0
        return
    assert not item.empty
    length = min(cfg.length, len(norm))
    n_windows = len(norm) - length + 1
    offsets = list(item.offsets)
    assert item.length == length
    assert offsets == sorted(set(offsets))  # increasing: sorted and distinct
    assert all(0 <= o < n_windows for o in offsets)
    if cfg.mode == "all":
        assert offsets == list(range(n_windows))
    else:
        assert len(offsets) == min(cfg.n_probes, n_windows)
    assert len(item) == len(offsets) == len(item.probes)
    for o, p in zip(offsets, item.probes):
        assert len(p) == length
        assert p == norm[o:o + length]


def test_gpt4_defaults_three_probes_of_fifty():
    item = sample_item("gsm8k", 0, LONG_Q)
    norm = normalize(LONG_Q)
    assert len(norm) > 150
    assert len(item.probes) == 3 and all(len(p) == 50 and p in norm for p in item.probes)


@pytest.mark.parametrize(
    ("question", "cfg", "expected_probes"),
    [
        ("Short one?", SampleConfig(), ("Shortone",)),
        ("What is 2 + 2?", SampleConfig(length=50, mode="all"), ("Whatis22",)),
        ("abcde", SampleConfig(length=5), ("abcde",)),
        ("abcdef", SampleConfig(length=5, n_probes=3), ("abcde", "bcdef")),
        ("abcdefg", SampleConfig(length=5, n_probes=3), ("abcde", "bcdef", "cdefg")),
        ("a b c d", SampleConfig(length=2, mode="all"), ("ab", "bc", "cd")),
        ("Ünïcödé ✓", SampleConfig(length=50), ("Ünïcödé",)),
    ],
    ids=[
        "shorter than length: whole question", "shorter than length, all mode: whole question",
        "exactly length: one window", "two windows, three wanted: both", "three windows, three wanted: all",
        "all mode: every window", "non-ASCII short question",
    ],
)
def test_small_questions(question, cfg, expected_probes):
    assert sample_item("b", 0, question, cfg).probes == expected_probes


@pytest.mark.parametrize("question", ["", "   ", "?!... --- ***", "😀 👍", "\ud800"],
                         ids=["empty", "spaces", "punctuation", "emoji", "lone surrogate"])
@pytest.mark.parametrize("mode", ["sample", "all"])
def test_question_without_letters_has_no_probe(question, mode):
    item = sample_item("b", 0, question, SampleConfig(mode=mode))
    assert isinstance(item, ItemProbes)
    assert item.empty
    assert item.normalized == ""
    assert item.probes == () and len(item) == 0 and list(item.offsets) == []


def test_normalize_config_defines_the_normalized_question():
    item = sample_item("b", 0, "ﬁ Hello &amp; World", SampleConfig(length=5, mode="all"),
                       NormalizeConfig(lowercase=True, nfkc=True, unescape=True))
    assert item.normalized == "fihelloworld"
    assert all(p == p.lower() for p in item.probes)


# ---------------------------------------------------------------------------------------------- config

BAD_CONFIGS = [
    ("zero length", dict(length=0)),
    ("negative length", dict(length=-5)),
    ("float length", dict(length=50.0)),
    ("string length", dict(length="50")),
    ("None length", dict(length=None)),
    ("zero probes", dict(n_probes=0)),
    ("negative probes", dict(n_probes=-1)),
    ("float probes", dict(n_probes=3.0)),
    ("unknown mode", dict(mode="every")),
    ("mode is case-sensitive", dict(mode="ALL")),
    ("empty mode", dict(mode="")),
    ("string seed", dict(seed="0")),
    ("float seed", dict(seed=1.5)),
    ("None seed", dict(seed=None)),
]


@pytest.mark.parametrize("kwargs", [c[1] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_sample_config_rejects_bad_values(kwargs):
    with pytest.raises(ConfigError) as info:
        SampleConfig(**kwargs)
    assert isinstance(info.value, ValueError)  # except ValueError keeps working
    (name,) = kwargs
    assert name in str(info.value)  # the message names the option
    assert repr(kwargs[name]) in str(info.value)


@pytest.mark.parametrize("kwargs", [dict(length=1), dict(n_probes=1), dict(mode="all"), dict(seed=-3),
                                    dict(seed=2**70), dict(length=10_000, n_probes=100)])
def test_sample_config_accepts_edge_values(kwargs):
    cfg = SampleConfig(**kwargs)
    for k, v in kwargs.items():
        assert getattr(cfg, k) == v


# ------------------------------------------------------------------------------------------- the draw


@settings(max_examples=400, deadline=None)
@given(seed=st.integers(0, 2**64 - 1), n=st.integers(1, 400), data=st.data())
def test_draw_is_exactly_random_sample(seed, n, data):
    """The written-out draw is CPython's ``Random.sample`` (both its methods: pool for small populations,
    rejection of repeats for large ones; k > 5 moves the threshold): the probes of existing reports stay."""
    k = data.draw(st.integers(0, min(n, 12)))
    assert draw_offsets(random.Random(seed), n, k) == random.Random(seed).sample(range(n), k)


def test_draw_rejects_impossible_counts():
    with pytest.raises(ValueError, match="distinct"):
        draw_offsets(random.Random(0), 2, 3)


@settings(max_examples=200, deadline=None)
@given(items=st.lists(st.tuples(st.one_of(st.integers(0, 50), st.text(max_size=5)), questions), max_size=8),
       cfg=configs, norm=st.builds(NormalizeConfig, lowercase=st.booleans(), nfkc=st.booleans(),
                                   unescape=st.booleans()))
def test_sample_items_equals_one_at_a_time(items, cfg, norm):
    """The batch path (one re-seeded generator, inlined ASCII normalization) gives what sampling each item on
    its own with a fresh generator and ``normalize`` gives."""
    got = sample_items("bench", items, cfg, norm)
    for (item_id, question), p in zip(items, got, strict=True):
        n = normalize(question, norm)
        assert p.normalized == n
        width = min(cfg.length, len(n))
        windows = len(n) - width + 1
        if not n:
            assert list(p.offsets) == []
        elif cfg.mode == "all" or windows <= cfg.n_probes:
            assert list(p.offsets) == list(range(windows))
        else:
            rng = random.Random(probe_seed(cfg.seed, "bench", item_id, question))
            assert list(p.offsets) == sorted(rng.sample(range(windows), cfg.n_probes))
