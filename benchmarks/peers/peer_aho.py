"""pyahocorasick reference, run in its own venv: exactly `baseline_ahocorasick` of benchmarks/speed/bench_filter.py
(json.loads per line, `regex` normalization per document, one Aho-Corasick automaton over decontam's probes,
first hit flags the document). The probes are read from decontam's report (--extra REPORT.json), as there."""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "speed")]

from bench_filter import baseline_ahocorasick, probes_of  # noqa: E402
from common import runner_args, write_flags  # noqa: E402

args = runner_args(__doc__)
probes = probes_of(json.loads(Path(args.extra).read_text()))
seconds, hits = baseline_ahocorasick(args.corpus, probes)
write_flags(args.out, "pyahocorasick", hits, {"probes": len(probes), "in_process_s": round(seconds, 3)})
