"""Stand-in for ernerf's DeepSpeech feature extractor: x.wav → x.npy."""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import standin  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", type=str, required=True)
    parser.add_argument("--output", type=str)
    parser.add_argument("--deepspeech", type=str)
    parser.add_argument("--metainfo", type=str)
    opt = parser.parse_args()
    if standin.start("data_utils/deepspeech_features/extract_ds_features.py", sys.argv[1:]):
        target = opt.output or os.path.splitext(opt.input)[0] + ".npy"
        standin.save_features(opt.input, target, (16, 29))
