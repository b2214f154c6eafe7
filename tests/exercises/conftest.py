import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # so exercise test modules can `import harness`
