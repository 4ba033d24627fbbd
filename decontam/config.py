"""Configuration: one frozen dataclass made of small frozen ones.

Every option that can change a result lives here and is written into every report, so a reader can see
exactly which departures from the GPT-4 rule (if any) were used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import ConfigError

__all__ = ["DEFAULT_ID_FIELD", "METHODS", "NEAR_DUP_THRESHOLD", "DecontamConfig", "Engine", "Method", "NgramRule", "NormalizeConfig",
           "OnError", "ProbeMode", "RedactConfig", "SampleConfig", "TextRule", "available_cores", "make_config"]

OnError = Literal["raise", "skip"]
Engine = Literal["local", "ray"]
# How a run is executed, never what it finds: not in reports' ``config`` nor in the fingerprint.
RUN_OPTIONS = ("num_proc", "engine", "ray_address")
MAX_DOC_BYTES = 256 << 20  # the default largest document: generous for text, bounded for memory
DEFAULT_ID_FIELD = "id"  # read when present; a corpus without it names documents by row number
ProbeMode = Literal["sample", "all"]
Method = Literal["gpt4", "ngram13"]
METHODS: tuple[str, ...] = ("gpt4", "ngram13")
NEAR_DUP_THRESHOLD = 0.5  # the near-duplicate pass's default threshold (docs/method.md: how it was chosen)
_NEAR_DUP_KEYS = ("near_dup", "near_dup_threshold")


@dataclass(frozen=True)
class NormalizeConfig:
    """How text is normalized before matching. The default is the GPT-4 rule, nothing added.

    The GPT-4 rule keeps only letters and digits: every character that is not a Unicode letter (L*), mark (M*)
    or number (N*) is dropped; case is kept.

    Attributes:
        lowercase: Lowercase the text (``str.lower``) before stripping. Off by default.
        nfkc: Apply Unicode NFKC folding before stripping (so ``ﬁ`` becomes ``fi``, ``①`` becomes ``1``).
        unescape: Undo backslash escapes (``\\n``, ``\\t``, ``\\"``, ``\\uXXXX``...) and HTML entities
            (``&amp;``, ``&#39;``...) first, so a question stored inside a JSON or code string literal still
            matches. Slower: documents with a backslash or ``&`` take the Python path.
    """

    lowercase: bool = False
    nfkc: bool = False
    unescape: bool = False

    def __post_init__(self) -> None:
        for name in ("lowercase", "nfkc", "unescape"):  # ("false" would be read as True)
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} (--{name}) must be True or False, got {getattr(self, name)!r}")

    @property
    def is_default(self) -> bool:
        """True when this is the plain GPT-4 rule."""
        return self == NormalizeConfig()


@dataclass(frozen=True)
class SampleConfig:
    """How probes are drawn from each normalized question.

    Attributes:
        length: Probe length in normalized characters (GPT-4: 50).
        n_probes: Probes drawn per item in ``sample`` mode (GPT-4: 3).
        mode: ``"sample"`` draws ``n_probes`` seeded random substrings; ``"all"`` takes every window of the
            question (exhaustive, no sampling luck).
        seed: Seed mixed with the benchmark name, item id and question to draw the probes.
        min_question_chars: Leave out items whose normalized question is shorter than this (0: none, the GPT-4
            rule, which uses a short question whole). A departure: a few very short questions ("43", "IBS")
            can match thousands of unrelated documents; items left out are counted and listed as too short.
    """

    length: int = 50
    n_probes: int = 3
    mode: ProbeMode = "sample"
    seed: int = 0
    min_question_chars: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.length, bool) or not isinstance(self.length, int) or self.length < 1:
            raise ConfigError(f"probe length must be a positive integer, got {self.length!r}")
        if isinstance(self.n_probes, bool) or not isinstance(self.n_probes, int) or self.n_probes < 1:
            raise ConfigError(f"n_probes must be a positive integer, got {self.n_probes!r}")
        if self.mode not in ("sample", "all"):
            raise ConfigError(f"probe mode must be 'sample' or 'all', got {self.mode!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"seed must be an integer, got {self.seed!r}")
        if isinstance(self.min_question_chars, bool) or not isinstance(self.min_question_chars, int) \
                or self.min_question_chars < 0:
            raise ConfigError(f"min_question_chars (--min-question-chars) must be an integer >= 0, got "
                              f"{self.min_question_chars!r}")


def _count(name: str, value: Any, least: int) -> None:
    """Refuse a count option that is not an integer of at least ``least`` (naming the option and its flag)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(f"{name} (--{name.replace('_', '-')}) must be an integer >= {least}, got {value!r}")


@dataclass(frozen=True)
class RedactConfig:
    """Span redaction (``filter --action redact``): cut what matched instead of dropping the document.

    Every occurrence of every probe in a matched document (field, chat message) is cut: its span in the
    original text, ``context`` characters more on each side, widened to whole lines. A document is dropped
    after all when what is left is shorter than ``min_chars`` characters, or split into more than
    ``max_pieces`` pieces. The defaults are those of the Turing-NLG / MT-NLG decontamination and of NeMo
    Curator's ``TaskDecontamination`` (200, 200, 10); ``docs/method.md`` says why.

    Attributes:
        context: Characters cut on each side of a matched span before it is widened to whole lines.
        min_chars: A redacted text with fewer characters left is dropped (its row with it).
        max_pieces: A redacted text left in more pieces than this is dropped (its row with it).
    """

    context: int = 200
    min_chars: int = 200
    max_pieces: int = 10

    def __post_init__(self) -> None:
        _count("redact_context", self.context, 0)
        _count("redact_min_chars", self.min_chars, 0)
        _count("redact_max_pieces", self.max_pieces, 1)
@dataclass(frozen=True)
class NgramRule:
    """The GPT-3 / lm-evaluation-harness 13-gram rule (``method="ngram13"``), as lm-eval's janitor has it.

    Text is normalized as ``Janitor.normalize_string`` does (ASCII ``A-Z`` lowercased, the 32 ASCII punctuation
    characters of ``string.punctuation`` deleted, nothing else changed), then split on whitespace
    (``str.split``); an item is contaminated when one of its word ``n``-grams is a word ``n``-gram of a training
    document. Its settings are lm-eval's and are not options: the rule is there to be compared with figures
    published that way.

    Attributes:
        n: Words per n-gram (lm-eval's ``ngram_n``: 13). A question of fewer words has no n-gram and cannot be
            checked (reported as too short).
    """

    n: int = 13


NGRAM13 = NgramRule()
TextRule = NormalizeConfig | NgramRule  # what the scan normalizes the corpus with (``DecontamConfig.text_rule``)


# The options of the GPT-4 rule (flag, where in the config): another method refuses any that is not the default.
_GPT4_OPTIONS = (
    ("--seed", ("sample", "seed")), ("--probes", ("sample", "n_probes")), ("--probes all", ("sample", "mode")),
    ("--probe-length", ("sample", "length")), ("--min-question-chars", ("sample", "min_question_chars")),
    ("--lowercase", ("normalize", "lowercase")), ("--nfkc", ("normalize", "nfkc")),
    ("--unescape", ("normalize", "unescape")),
)


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system says, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # (not on macOS or Windows)
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class DecontamConfig:
    """All options of a contamination check.

    Attributes:
        normalize: Normalizer options.
        sample: Probe sampling options.
        text_field: Corpus field holding the training text, or several (a list: each matched on its own, and a
            field may hold chat messages; see :mod:`decontam.inputs.fields`). With the default ``text``, a
            corpus without it but with a chat field (``messages``, ``conversations``) is read from that.
        id_field: Corpus field holding a document id; rows without it are named by their row number. A field
            other than the default ``id`` that the corpus does not have (the first row of none of its files, no
            column of its dataset or table) is refused: a misspelt name would name every document by row.
        on_error: ``"raise"`` stops at the first malformed row with an error naming file, line and field;
            ``"skip"`` skips it, counts it and lists it in the report.
        max_doc_bytes: The largest document (bytes of UTF-8 text; a JSONL line) read: a larger one is an error
            naming its file and line (or, with ``on_error="skip"``, a counted skip where the reader can), so
            memory stays bounded whatever the input (a gzip bomb of one huge line, say).
        num_proc: Worker processes (``"auto"``: one per available core). How a run is executed, never what it
            finds: it is not recorded in reports (:meth:`to_dict`) nor in the fingerprint, so runs with any
            number of workers give the same report.
        engine: Where the scan runs: ``"local"`` (this process, or ``num_proc`` local processes) or ``"ray"``
            (Ray Data, on a local Ray or a cluster: ``pip install 'decontam[ray]'``). How a run is executed,
            like ``num_proc``: a report names it in ``run.engine`` only.
        ray_address: With ``engine="ray"``, the Ray cluster to connect to (``host:port``, ``ray://host:port``
            or ``auto``); None starts a local Ray (or uses the one this process already joined).
        probe_answers: Also draw probes from each item's answer or reference solution (the benchmark's answer
            field: HumanEval ``canonical_solution``, MBPP ``code``, GSM8K ``answer``...), with the same sampler,
            and report the items whose answer is found apart (``answer_leak_ids``). A departure, reported apart:
            the question-only figures (contaminated items, documents removed by the GPT-4 rule) stay what they
            are without it; ``filter`` also removes the documents holding an answer probe, counted apart. Answers
            shorter than the probe length are not probed (a short answer, ``B`` or ``42``, is in every corpus).
            Off by default; when off it is left out of :meth:`to_dict` and the fingerprint, so reports and
            indexes of the GPT-4 rule are those of earlier versions.
        redact: Span redaction instead of dropping matched documents (``action="redact"``), or None (the
            default: a matched document is dropped whole). Recorded only when set, so the default's reports and
            fingerprints are those of a version without it.
        near_dup: Also run the near-duplicate pass (:mod:`decontam.neardup`): items found after edits, reported
            apart (``near_duplicate_ids``), their documents removed by a filter and counted apart. The exact
            rule's result is the same with it on or off.
        near_dup_threshold: The measured containment (share of a question's shingles in a window of a
            document) a near duplicate needs, in ``(0, 1]``.
        method: ``"gpt4"`` (the default): the GPT-4 rule, tuned by :attr:`normalize` and :attr:`sample`.
            ``"ngram13"``: the GPT-3 / lm-evaluation-harness 13-gram rule (:class:`NgramRule`), for figures
            comparable with those published that way; the GPT-4 options (and answer probes, redaction, the
            near-duplicate pass) do not apply to it and are refused. Recorded only when not the GPT-4 rule.
    """

    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)
    text_field: str | tuple[str, ...] = "text"
    id_field: str = DEFAULT_ID_FIELD
    on_error: OnError = "raise"
    max_doc_bytes: int = MAX_DOC_BYTES
    num_proc: int | Literal["auto"] = 1
    engine: Engine = "local"
    ray_address: str | None = None
    probe_answers: bool = False
    redact: RedactConfig | None = None
    near_dup: bool = False
    near_dup_threshold: float = NEAR_DUP_THRESHOLD
    method: Method = "gpt4"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"method (--method) must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.method != "gpt4":
            defaults = {"sample": SampleConfig(), "normalize": NormalizeConfig()}
            changed = [flag for flag, (part, name) in _GPT4_OPTIONS
                       if getattr(getattr(self, part), name) != getattr(defaults[part], name)]
            if changed:
                raise ConfigError(f"{', '.join(changed)} tune the GPT-4 rule's probes and normalizer; the "
                                  f"{self.method} rule has its own (lm-evaluation-harness's janitor: every word "
                                  "13-gram, lowercased, punctuation deleted): drop them, or use --method gpt4")
            passes = [flag for flag, on in (("--probe-answers", self.probe_answers),
                                             ("--action redact", self.redact is not None),
                                             ("--near-dup", self.near_dup)) if on]
            if passes:
                raise ConfigError(f"{', '.join(passes)} work with the GPT-4 rule's probes only, not with --method "
                                  f"{self.method}")
        if self.on_error not in ("raise", "skip"):
            raise ConfigError(f"on_error must be 'raise' or 'skip', got {self.on_error!r}")
        if not isinstance(self.probe_answers, bool):
            raise ConfigError(f"probe_answers (--probe-answers) must be True or False, got {self.probe_answers!r}")
        if self.num_proc == "auto":
            object.__setattr__(self, "num_proc", available_cores())
        if isinstance(self.num_proc, bool) or not isinstance(self.num_proc, int) or self.num_proc < 1:
            raise ConfigError(f"num_proc must be a positive integer or 'auto', got {self.num_proc!r}")
        if not isinstance(self.text_field, (str, list, tuple)):
            raise ConfigError(f"text_field must be a field name or a list of distinct field names, got "
                              f"{self.text_field!r}")
        if not isinstance(self.text_field, str):  # several fields: a tuple (one: the plain string)
            fields = tuple(self.text_field)
            object.__setattr__(self, "text_field", fields[0] if len(fields) == 1 else fields)
        if not self.text_field or not all(isinstance(f, str) and f for f in self.text_fields) \
                or len(set(self.text_fields)) != len(self.text_fields):
            raise ConfigError(f"text_field must be a field name or a list of distinct field names, got "
                              f"{self.text_field!r}")
        if self.id_field is not None and (not isinstance(self.id_field, str) or not self.id_field):
            raise ConfigError(f"id_field must be a field name (or None: rows named by number), got {self.id_field!r}")
        if self.engine not in ("local", "ray"):
            raise ConfigError(f"engine must be 'local' or 'ray', got {self.engine!r}")
        if self.engine == "ray" and self.num_proc != 1:
            raise ConfigError(f"num_proc (--num-proc) {self.num_proc} is for the local engine; engine='ray' "
                              "(--engine ray) runs on the Ray cluster's CPUs: leave num_proc at 1")
        if self.ray_address is not None and (self.engine != "ray" or not isinstance(self.ray_address, str)
                                             or not self.ray_address.strip()):
            raise ConfigError(f"ray_address (--ray-address) {self.ray_address!r} needs engine='ray' (--engine "
                              "ray) and a non-empty address (HOST:PORT, ray://HOST:PORT or auto)")
        if isinstance(self.max_doc_bytes, bool) or not isinstance(self.max_doc_bytes, int) or self.max_doc_bytes < 1:
            raise ConfigError(f"max_doc_bytes (--max-doc-bytes) must be a positive integer, got "
                              f"{self.max_doc_bytes!r}")
        if isinstance(self.redact, dict):
            object.__setattr__(self, "redact", RedactConfig(**self.redact))
        if self.redact is not None and not isinstance(self.redact, RedactConfig):
            raise ConfigError(f"redact must be a RedactConfig or None, got {self.redact!r}")
        if not isinstance(self.near_dup, bool):
            raise ConfigError(f"near_dup must be True or False, got {self.near_dup!r}")
        t = self.near_dup_threshold
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t <= 1:
            raise ConfigError(f"near_dup_threshold (--near-dup-threshold) must be a number in (0, 1], got {t!r}")
        object.__setattr__(self, "near_dup_threshold", float(t))
        if not self.near_dup and self.near_dup_threshold != NEAR_DUP_THRESHOLD:
            raise ConfigError("near_dup_threshold (--near-dup-threshold) is the near-duplicate pass's: turn the "
                              "pass on with near_dup=True (--near-dup)")
        if self.near_dup and self.redact is not None:
            raise ConfigError("near_dup (--near-dup) with action='redact' (--action redact) is not supported: a near "
                              "duplicate's span is an estimate's window, not a verified run to cut; run the "
                              "near-duplicate pass with action='drop' (the default), or redact without it")

    @property
    def text_rule(self) -> TextRule:
        """What the corpus is normalized with: the GPT-4 normalizer's options, or the 13-gram rule."""
        return NGRAM13 if self.method == "ngram13" else self.normalize

    @property
    def every_window(self) -> bool:
        """True when every window of each question is a probe (``--probes all``, or the 13-gram rule): the report
        then lists the normalized question rather than the probes."""
        return self.method == "ngram13" or self.sample.mode == "all"

    @property
    def text_fields(self) -> tuple[str, ...]:
        """The text fields, as a tuple (one or several)."""
        return (self.text_field,) if isinstance(self.text_field, str) else self.text_field

    def to_dict(self) -> dict[str, Any]:
        """The options that decide a result, as plain JSON-ready data (what a report records): all but how the
        run is executed (``num_proc``, ``engine``, ``ray_address``), and the opt-in passes (``probe_answers``,
        ``redact``, ``near_dup`` and its threshold, ``method`` other than the GPT-4 rule) only when they are on, so
        that the GPT-4 rule's record and fingerprint do not change as options are added; under the 13-gram rule,
        also its settings (``ngram``: its ``n``), which are not options."""
        data = dataclasses.asdict(self)
        for key in RUN_OPTIONS:
            del data[key]
        if not self.probe_answers:
            del data["probe_answers"]
        if self.redact is None:
            del data["redact"]
        if not self.near_dup:
            for key in _NEAR_DUP_KEYS:
                del data[key]
        if self.method == "gpt4":
            del data["method"]
        if not isinstance(self.text_field, str):
            data["text_field"] = list(self.text_field)
        if isinstance(self.text_rule, NgramRule):  # the rule's own settings, for a reader of the report
            data["ngram"] = dataclasses.asdict(self.text_rule)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecontamConfig:
        """Rebuild a config from :meth:`to_dict` output (e.g. the ``config`` of a report); ``num_proc``,
        ``engine`` and ``ray_address`` are taken when present."""
        data = dict(data)
        norm = NormalizeConfig(**data.pop("normalize", {}))
        samp = SampleConfig(**data.pop("sample", {}))
        redact = data.pop("redact", None)
        data["redact"] = RedactConfig(**redact) if redact is not None else None
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(normalize=norm, sample=samp, **{k: v for k, v in data.items() if k in known})

    def fingerprint(self) -> str:
        """A short hash of the options that decide a result (:meth:`to_dict`); equal options, equal
        fingerprints."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def make_config(config: DecontamConfig | None = None, **options: Any) -> DecontamConfig:
    """A config from an optional base and keyword overrides.

    Keywords are the fields of :class:`DecontamConfig`, plus the shortcuts ``seed``, ``probes`` (an int for
    the number of sampled probes, or ``"all"``), ``probe_length``, ``min_question_chars``, ``lowercase``,
    ``nfkc``, ``unescape``, and ``action`` (``"drop"``, the default, or ``"redact"``) with ``redact_context``,
    ``redact_min_chars`` and ``redact_max_pieces`` (see :class:`RedactConfig`).

    Raises:
        ConfigError: An unknown keyword or an invalid value.
    """
    if config is not None and not isinstance(config, DecontamConfig):
        raise ConfigError(f"config must be a DecontamConfig, got a {type(config).__name__}; pass options as keywords "
                          "(seed=1), or a dict as DecontamConfig.from_dict(...)")
    cfg = config or DecontamConfig()
    norm = dict(dataclasses.asdict(cfg.normalize))
    samp = dict(dataclasses.asdict(cfg.sample))
    top: dict[str, Any] = {}
    redact = _redact_options(cfg.redact, options)
    if redact is not cfg.redact:
        top["redact"] = redact
    for key, value in options.items():
        if value is None or key in _REDACT_KEYS:
            continue
        if key in norm:
            norm[key] = value
        elif key == "seed":
            samp["seed"] = value
        elif key == "probe_length":
            samp["length"] = value
        elif key == "min_question_chars":
            samp["min_question_chars"] = value
        elif key == "probes":
            if value == "all":
                samp["mode"] = "all"
            elif isinstance(value, int) and not isinstance(value, bool) or isinstance(value, str) and value.isdigit():
                samp["n_probes"], samp["mode"] = int(value), "sample"  # ("3" is 3; 2.9 is not 2, nor True 1)
            else:
                raise ConfigError(f"probes must be a positive integer or 'all', got {value!r}")
        elif key in {f.name for f in dataclasses.fields(DecontamConfig)} - {"normalize", "sample"}:
            top[key] = value
        else:
            raise ConfigError(f"unknown option {key!r}")
    return dataclasses.replace(cfg, normalize=NormalizeConfig(**norm), sample=SampleConfig(**samp), **top)


_REDACT_KEYS = {"action": None, "redact_context": "context", "redact_min_chars": "min_chars",
                "redact_max_pieces": "max_pieces"}


def _redact_options(base: RedactConfig | None, options: dict[str, Any]) -> RedactConfig | None:
    """The redaction a config gets from ``action`` and the ``redact_*`` keywords (``base`` when none is given).

    Raises:
        ConfigError: An unknown action, or a ``redact_*`` option without ``action="redact"``.
    """
    given = {key: options[key] for key in _REDACT_KEYS if options.get(key) is not None}
    if not given:
        return base
    action = given.pop("action", None)
    if action not in (None, "drop", "redact"):
        raise ConfigError(f"action (--action) must be 'drop' or 'redact', got {action!r}")
    if given and (action == "drop" or (action is None and base is None)):
        named = ", ".join(f"{k} (--{k.replace('_', '-')})" for k in sorted(given))
        raise ConfigError(f"{named} appl{'ies' if len(given) == 1 else 'y'} only with action='redact' "
                          "(--action redact)")
    if action == "drop":
        return None
    start = base or RedactConfig()
    return dataclasses.replace(start, **{_REDACT_KEYS[k]: v for k, v in given.items()})  # type: ignore[misc]
