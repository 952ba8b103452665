#!/usr/bin/env python3
"""Runs every integration test module; one closing summary line."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import test_dataplane  # noqa: E402
import test_exporter  # noqa: E402
import test_fingerprints  # noqa: E402
from hwtest import run  # noqa: E402

if __name__ == "__main__":
    p, f, s = run(test_dataplane.TESTS + test_fingerprints.TESTS + test_exporter.TESTS)
    print("integration: %d passed, %d failed, %d skipped" % (p, f, s))
    sys.exit(1 if f else 0)
