"""Write a synthetic OLX course export of N blocks (default 5,000) to a folder.

    python bench/generate_course.py OUT_DIR [--blocks N] [--key course-v1:ORG+NUMBER+RUN]

The generator lives in :mod:`plugins.courses.synthetic` (the benchmark dataset of
the courses plugin imports the same course); see its docstring for the course's shape.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from plugins.courses.synthetic import generate  # noqa: E402  (after the path)

__all__ = ["generate"]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--blocks", type=int, default=5000)
    parser.add_argument("--key", default="course-v1:Bench+Synthetic+2026")
    args = parser.parse_args()
    count = generate(args.out_dir, args.blocks, args.key)
    print(f"wrote {args.key} ({count} blocks) to {args.out_dir}")


if __name__ == "__main__":
    main()
