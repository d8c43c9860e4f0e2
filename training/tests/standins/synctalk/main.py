"""Stand-in for SyncTalk's main.py (training and test rendering)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import standin  # noqa: E402

if __name__ == "__main__":
    parser = standin.main_parser()
    parser.add_argument("--portrait", action="store_true")
    parser.add_argument("--output_name", type=str)
    parser.add_argument("--bs_area", type=str, default="upper")
    parser.add_argument("--au45", action="store_true")
    opt = parser.parse_args()
    if standin.start("main.py", sys.argv[1:]):
        audio = {"ave": "aud.wav", "hubert": "aud_hu.npy"}.get(opt.asr_model, "aud_ds.npy")
        standin.main(opt, audio)
