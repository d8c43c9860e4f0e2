"""Stand-in for ER-NeRF's main.py (training and test rendering); it has no --portrait."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import standin  # noqa: E402

if __name__ == "__main__":
    opt = standin.main_parser().parse_args()
    if standin.start("main.py", sys.argv[1:]):
        if not Path(opt.path, "au.csv").is_file():
            sys.exit(f"FileNotFoundError: [Errno 2] No such file or directory: '{opt.path}/au.csv'")
        standin.main(opt, "aud_hu.npy" if "hubert" in opt.asr_model else "aud_ds.npy")
