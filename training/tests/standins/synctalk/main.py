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
        if not opt.au45 and not Path(opt.path, "bs.npy").is_file():  # upstream's provider loads it
            sys.exit(f"FileNotFoundError: [Errno 2] No such file or directory: '{opt.path}/bs.npy'")
        audio = {"ave": "aud.wav", "hubert": "aud_hu.npy"}.get(opt.asr_model, "aud_ds.npy")
        standin.main(opt, audio)
