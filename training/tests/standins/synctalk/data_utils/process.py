"""Stand-in for SyncTalk's data_utils/process.py."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import standin  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=str)
    parser.add_argument("--task", type=int, default=-1)
    parser.add_argument("--asr", type=str, default="ave")
    opt = parser.parse_args()
    if standin.start("data_utils/process.py", sys.argv[1:]):
        standin.process(opt, {
            "deepspeech": ["data_utils/deepspeech_features/extract_ds_features.py", "--input"],
            "hubert": ["data_utils/hubert.py", "--wav"],
        }, blendshapes=True)
