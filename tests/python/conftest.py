"""Makes the package under python/ importable without installing it; the
library is found through FERRY_BUILD (or the source tree's build/)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(HERE, "..", "..", "python")))
sys.path.insert(0, HERE)  # pyferry_util
