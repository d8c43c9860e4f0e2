"""Stand-in for SyncTalk's data_utils/blendshape_capture/main.py: 52 blendshape values per frame in bs.npy.

Upstream reads every frame with MediaPipe's face landmarker (``mediapipe`` and its
``face_landmarker.task`` beside this script); process.py starts it with os.system and carries on
whatever happens, and training then needs bs.npy (unless --au45).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import standin  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", type=str, help="idname of target person")
    args = parser.parse_args()
    if standin.start("data_utils/blendshape_capture/main.py", sys.argv[1:]):
        video = next(Path(args.path).glob("*.mp4"))
        frames, _ = standin.count_frames_and_secs(str(video))
        np.save(Path(args.path, "bs.npy"), np.zeros((frames, 52)))
        print(f"({frames}, 52)", flush=True)
