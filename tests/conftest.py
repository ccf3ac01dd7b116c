import pathlib
import sys

# Test helpers (the reference model, data-plane runners) import by name.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
