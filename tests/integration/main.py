#!/usr/bin/env python3
"""Runs every integration test module; one closing summary line."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import test_dataplane  # noqa: E402
import test_exporter  # noqa: E402
import test_faults  # noqa: E402
import test_fingerprints  # noqa: E402
import test_hostile  # noqa: E402
import test_hostile_http  # noqa: E402
from hwtest import main  # noqa: E402

if __name__ == "__main__":
    main(test_dataplane.TESTS + test_fingerprints.TESTS + test_exporter.TESTS + test_hostile_http.TESTS +
         test_faults.TESTS +
         test_hostile.TESTS)
