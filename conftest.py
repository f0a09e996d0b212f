"""Puts the repository root on sys.path so tests import `components` and `dashboards`, and
keeps Hypothesis' files out of the repository."""
import os
import sys
import tempfile

from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# No example database, and Hypothesis' own caches (constants, Unicode tables) in a temp folder
# rather than ./.hypothesis.
set_hypothesis_home_dir(os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
                        or os.path.join(tempfile.gettempdir(), "hypothesis-monitoring-tests"))
settings.register_profile("monitoring", database=None)
settings.load_profile("monitoring")
