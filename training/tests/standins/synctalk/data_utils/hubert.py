"""Stand-in for synctalk's data_utils/hubert.py: x.wav → x_hu.npy."""

import sys
from argparse import ArgumentParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import standin  # noqa: E402

if __name__ == "__main__":
    parser = ArgumentParser()
    parser.add_argument("--wav", type=str, help="")
    args = parser.parse_args()
    if standin.start("data_utils/hubert.py", sys.argv[1:]):
        standin.save_features(args.wav, args.wav.replace(".wav", "_hu.npy"), (2, 1024))
