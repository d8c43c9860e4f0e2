"""The built-in talking head on real footage: training, rendering, lip sync, refusals, and through the API."""

import json
import shutil
import subprocess

import numpy as np
import pytest
import soundfile

from avatar_site.lib.media import ffmpeg_binary
from monitoring.errors import JobCancelled
from tests.flows import clone_voice
from tests.media import shared_media, test_video
from training.engines.base import EngineError, RenderJob, TrainingJob
from training.engines.builtin import BuiltinTalkingHead, features
from training.engines.builtin.mouth_model import load_net, predict, save_net, train_mouth_net
from training.models import Avatar

REAL_VIDEO = "video_en_female_aoc_sadtalker.mp4"
SPEECH = "speech_en_jfk_whisper.flac"  # another speaker, with pauses between phrases
EPOCHS = 12


class Recorder:
    """A progress channel that remembers what it was told."""

    def __init__(self):
        self.messages = []
        self.lines = []

    def __call__(self, percent, message=None):
        self.messages.append((percent, message))

    def should_cancel(self):
        return False

    def log(self, line):
        self.lines.append(line)


def ffmpeg(*args):
    subprocess.run([ffmpeg_binary(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def ffprobe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-count_frames", "-show_streams",
                          "-show_format", str(path)], capture_output=True, check=True)
    return json.loads(out.stdout)


def clip(source, target, seconds, audio=True):
    ffmpeg("-i", str(source), "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
           *(["-c:a", "aac"] if audio else ["-an"]), str(target))
    return target


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("builtin")
    video = clip(shared_media(REAL_VIDEO), folder / "reference.mp4", 7)
    job = TrainingJob(avatar_id="aoc", source_video=video, avatar_dir=folder / "avatar", epochs=EPOCHS)
    progress = Recorder()
    manifest = BuiltinTalkingHead().train(job, progress)
    return job, manifest, progress


@pytest.fixture(scope="module")
def rendered(trained, tmp_path_factory):
    job, manifest, _ = trained
    folder = tmp_path_factory.mktemp("render")
    speech = folder / "speech.wav"
    ffmpeg("-i", str(shared_media(SPEECH)), "-t", "8", "-ac", "1", "-ar", "22050", str(speech))
    output = folder / "out.mp4"
    BuiltinTalkingHead().render(
        RenderJob(avatar_dir=job.avatar_dir, manifest=manifest, audio_wav=speech, output_mp4=output,
                  work_dir=folder), Recorder())
    return speech, output


def mouth_openings(video):
    """Inner-lip gap over eye distance per frame, measured by a separate MediaPipe pass (nan where no face)."""
    import mediapipe as mp

    info = next(s for s in ffprobe(video)["streams"] if s["codec_type"] == "video")
    width, height = info["width"], info["height"]
    raw = subprocess.run([ffmpeg_binary(), "-v", "error", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)
    openings = []
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1) as mesh:
        for frame in frames:
            found = mesh.process(frame).multi_face_landmarks
            if not found:
                openings.append(np.nan)
                continue
            p = {i: np.array([found[0].landmark[i].x * width, found[0].landmark[i].y * height]) for i in (13, 14, 33, 263)}
            openings.append(np.linalg.norm(p[14] - p[13]) / np.linalg.norm(p[263] - p[33]))
    return np.array(openings)


def loudness(wav, frames):
    samples, rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
    step = rate // 25
    samples = np.pad(samples.mean(1), (0, max(0, frames * step - len(samples))))[: frames * step]
    return 20 * np.log10(np.sqrt((samples.reshape(frames, step) ** 2).mean(1)) + 1e-5)


@pytest.mark.slow
def test_it_trains_a_complete_avatar_from_real_footage(trained):
    job, manifest, progress = trained

    files = sorted(p.name for p in job.avatar_dir.iterdir())
    assert files == sorted([*manifest["files"], "manifest.json"])
    assert json.loads((job.avatar_dir / "manifest.json").read_text()) == manifest
    assert manifest["engine"] == "builtin"
    assert manifest["fps"] == 25 and manifest["size"] == 512
    assert manifest["frames"] == 175
    assert manifest["tracked_frames"] >= 170
    assert manifest["held_out_frames"] > 20
    assert len(manifest["losses"]) == len(manifest["held_out_losses"]) == EPOCHS
    assert manifest["losses"][-1] < manifest["losses"][0]
    assert set(manifest["scores"]) >= {"held_out_lmd", "still_lmd", "opening_r"}
    assert manifest["training_seconds"] > 0
    assert any(m and m.startswith(f"epoch {EPOCHS}/{EPOCHS}") for _, m in progress.messages)


@pytest.mark.slow
def test_it_renders_a_browser_playable_video_as_long_as_the_speech(rendered):
    speech, output = rendered

    info = ffprobe(output)
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert streams["video"]["pix_fmt"] == "yuv420p"
    assert streams["video"]["avg_frame_rate"] == "25/1"
    assert int(streams["video"]["nb_read_frames"]) == 200  # 8 s of speech at 25 fps
    assert streams["audio"]["codec_name"] == "aac"
    assert abs(float(info["format"]["duration"]) - 8.0) < 0.1
    head = output.read_bytes()
    assert head.index(b"moov") < head.index(b"mdat")  # +faststart: playable while downloading


@pytest.mark.slow
def test_the_rendered_mouth_opens_with_the_speech(rendered):
    speech, output = rendered

    openings = mouth_openings(output)

    loud = loudness(speech, len(openings))
    tracked = ~np.isnan(openings)
    assert tracked.mean() > 0.95
    assert np.nanstd(openings) > 0.02  # the mouth really moves
    # Loose: an independent tracker, another speaker's voice, no allowance for lip-audio lag.
    assert np.corrcoef(openings[tracked], loud[tracked])[0, 1] > 0.15


def no_face_video(folder):
    return test_video(folder / "testsrc.mp4", seconds=4, size="320x240")


def silent_real_video(folder):
    return clip(shared_media(REAL_VIDEO), folder / "silent.mp4", 4, audio=False)


def short_real_video(folder):
    return clip(shared_media(REAL_VIDEO), folder / "short.mp4", 2)


def little_audio_video(folder):
    """Six seconds of face with the first 0.6 s of its sound."""
    target = folder / "little_audio.mp4"
    ffmpeg("-i", str(shared_media(REAL_VIDEO)), "-t", "6", "-af", "atrim=0:0.6", "-c:v", "libx264",
           "-preset", "ultrafast", "-c:a", "aac", str(target))
    return target


def muted_microphone_video(folder):
    """Face and speech as recorded with the microphone muted: an audio track of digital silence."""
    target = folder / "muted.mp4"
    ffmpeg("-i", str(shared_media(REAL_VIDEO)), "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "4",
           "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(target))
    return target


def two_faces_video(folder):
    half = clip(shared_media(REAL_VIDEO), folder / "one.mp4", 4)
    target = folder / "two.mp4"
    ffmpeg("-i", str(half), "-filter_complex", "[0:v]scale=256:256,split[a][b];[a][b]hstack", "-c:v", "libx264",
           "-preset", "ultrafast", "-c:a", "aac", str(target))
    return target


def text_file(folder):
    path = folder / "notes.mp4"
    path.write_text("this is not a video\n" * 20)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("make, expected", [
    (no_face_video, "No face was found"),
    (two_faces_video, "Several faces"),
    (silent_real_video, "no audio track"),
    (short_real_video, "at least 3 s"),
    (little_audio_video, "audio lasts 0.6 s"),
    (muted_microphone_video, "audio is silent"),
    (text_file, "not a readable video"),
])
def test_it_refuses_unusable_references_and_leaves_nothing(tmp_path, make, expected):
    avatar_dir = tmp_path / "avatar"
    job = TrainingJob(avatar_id="bad", source_video=make(tmp_path), avatar_dir=avatar_dir, epochs=2)

    with pytest.raises(EngineError) as error:
        BuiltinTalkingHead().train(job, Recorder())

    assert expected in str(error.value)
    assert list(avatar_dir.iterdir()) == []


@pytest.mark.parametrize("params, expected", [
    ({"colour": "red"}, "unknown key"), ({"lr": "fast"}, "not a valid number"), ({"window": 4}, "outside"),
    ({"model": "rnn"}, "not one of"), ({"ridge": -1}, "outside"),
])
def test_it_refuses_bad_custom_params(params, expected):
    with pytest.raises(ValueError, match=expected):
        BuiltinTalkingHead().validate_params(params)


def test_it_converts_custom_params():
    params = BuiltinTalkingHead().validate_params({"lr": "0.001", "batch_size": "16", "hidden": 32, "window": 24})

    assert params == {"lr": 0.001, "batch_size": 16, "hidden": 32, "window": 24}


def test_it_converts_the_model_choice():
    params = BuiltinTalkingHead().validate_params({"model": " CNN ", "ridge": "50"})

    assert params == {"model": "cnn", "ridge": 50.0}


def synthetic_windows(frames, window=16, seed=0):
    """Random log-mel windows and codes that are a fixed linear function of their centre 40 ms."""
    generator = np.random.default_rng(seed)
    windows = generator.normal(size=(frames, features.N_MELS, window)).astype(np.float32)
    mixing = generator.normal(size=(features.N_MELS, 3)).astype(np.float32)
    centre = windows[:, :, window // 2 - 2:window // 2 + 2].mean(2)
    return windows, (centre @ mixing).astype(np.float32)


@pytest.mark.parametrize("kind", ["linear", "cnn"])
def test_the_mouth_model_learns_a_mapping_from_the_audio_window(kind):
    windows, codes = synthetic_windows(1500)

    net, history = train_mouth_net(windows, codes, np.arange(1200), np.arange(1200, 1500), 20, 2e-3, 32, 32,
                                   lambda *a: None, kind=kind, ridge=0.01)

    assert net.config["kind"] == kind and len(history) == 20
    error = ((predict(net, windows[1200:]) - codes[1200:]) ** 2).mean()
    assert error < 0.5 * codes.var()  # it learned the mapping on unseen frames, not the mean


def test_the_linear_model_keeps_its_best_held_out_epoch():
    windows, codes = synthetic_windows(120)  # few frames for many inputs: it overfits after a while
    held = []

    net, _ = train_mouth_net(windows, codes, np.arange(60), np.arange(60, 120), 60, 2e-2, 16, 32,
                             lambda epoch, train, held_out: held.append(held_out), ridge=0.0)

    error = ((predict(net, windows[60:]) - codes[60:]) ** 2).mean()  # the linear model's held-out loss
    assert error == pytest.approx(min(held), rel=1e-3)
    assert min(held) < held[-1]


def test_a_saved_mouth_model_predicts_the_same(tmp_path):
    windows, codes = synthetic_windows(100)
    net, _ = train_mouth_net(windows, codes, np.arange(80), np.arange(80, 100), 3, 2e-3, 32, 32, lambda *a: None)

    save_net(net, tmp_path / "net.pt")

    assert np.allclose(predict(load_net(tmp_path / "net.pt"), windows), predict(net, windows), atol=1e-6)


@pytest.mark.slow
@pytest.mark.django_db
def test_it_trains_and_renders_through_the_api(api, media_root, settings):
    settings.TALKING_HEAD_ENGINES = {"builtin": "training.engines.builtin.BuiltinTalkingHead"}
    settings.VOICE_ENGINES = {"builtin": "tests.doubles.ToneVoice"}
    settings.VOICE_ENGINE = "builtin"
    video = clip(shared_media(REAL_VIDEO), media_root.parent / "inputs" / "reference.mp4", 5)
    clone_voice(api, media_root, "speaker_1")

    trained = api.post("/model_training", {"model_choice": "builtin", "ref_video": str(video), "gpu_choice": "GPU0",
                                           "epoch": "3", "custom_params": "lr=0.003,hidden=32"})
    avatar = Avatar.objects.get(pk=trained.json()["avatar_id"])
    generated = api.post("/video_generation", {"model_name": "builtin", "model_param": avatar.id,
                                               "ref_audio_id": "speaker_1", "gpu_choice": "GPU0",
                                               "target_text": "hello world"})

    assert trained.status_code == 200, trained.json()
    assert avatar.status == Avatar.Status.READY
    assert avatar.metrics["losses"] and len(avatar.metrics["losses"]) == 3
    assert generated.status_code == 200, generated.json()
    video_file = media_root / "videos" / generated.json()["video_path"].removeprefix("/video/")
    streams = {s["codec_type"]: s for s in ffprobe(video_file)["streams"]}
    assert streams["video"]["codec_name"] == "h264" and streams["video"]["width"] == 512
    # ToneVoice speaks 0.08 s per character: "hello world" → 0.88 s → 22 frames.
    assert int(streams["video"]["nb_read_frames"]) == 22
    assert streams["audio"]["codec_name"] == "aac"


class Cancelled(Recorder):
    """A task asked to stop: as with the runner's Progress, the next report raises JobCancelled."""

    def __call__(self, percent, message=None):
        raise JobCancelled()

    def should_cancel(self):
        return True


@pytest.mark.slow
def test_a_cancelled_training_stops_and_leaves_nothing(tmp_path):
    video = clip(shared_media(REAL_VIDEO), tmp_path / "reference.mp4", 4)
    avatar_dir = tmp_path / "avatar"
    job = TrainingJob(avatar_id="stop", source_video=video, avatar_dir=avatar_dir, epochs=50)

    with pytest.raises(JobCancelled):
        BuiltinTalkingHead().train(job, Cancelled())

    assert list(avatar_dir.iterdir()) == []


@pytest.mark.slow
def test_it_trains_from_a_portrait_phone_video_stored_sideways(tmp_path):
    """Phones store portrait video as landscape frames plus a rotation for the player."""
    sideways, video = tmp_path / "sideways.mp4", tmp_path / "phone.mp4"
    ffmpeg("-i", str(shared_media(REAL_VIDEO)), "-t", "4", "-vf", "scale=360:-2,pad=360:640:0:(oh-ih)/2,transpose=2",
           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(sideways))
    # Debian's ffmpeg 5 turns the rotate tag into the display matrix (newer builds dropped the tag).
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(sideways), "-c", "copy", "-metadata:s:v:0", "rotate=90",
                    str(video)], check=True)
    stored = next(s for s in ffprobe(video)["streams"] if s["codec_type"] == "video")
    assert (stored["width"], stored["height"]) == (640, 360) and stored.get("side_data_list")

    manifest = BuiltinTalkingHead().train(
        TrainingJob(avatar_id="phone", source_video=video, avatar_dir=tmp_path / "avatar", epochs=2), Recorder())

    x, y, side = manifest["crop"]
    assert x + side <= 360 and y + side <= 640  # inside the upright frame
    assert manifest["tracked_frames"] >= 0.9 * manifest["frames"]


@pytest.mark.slow
@pytest.mark.parametrize(("key", "value"), [("size", 2048), ("size", "512"), ("base_frames", [0, 100_000]),
                                            ("base_frames", "all")])
def test_it_refuses_to_render_a_manifest_that_would_blow_up_memory(trained, tmp_path, key, value):
    job, manifest, _ = trained
    speech = tmp_path / "speech.wav"
    ffmpeg("-i", str(shared_media(SPEECH)), "-t", "1", "-ac", "1", "-ar", "16000", str(speech))

    with pytest.raises(EngineError, match=f"unusable {'frame size' if key == 'size' else key}"):
        BuiltinTalkingHead().render(RenderJob(avatar_dir=job.avatar_dir, manifest={**manifest, key: value},
                                              audio_wav=speech, output_mp4=tmp_path / "out.mp4", work_dir=tmp_path),
                                    Recorder())
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["tracks not an archive", "tracks without codes", "tracks of other lengths",
                                    "model not a checkpoint"])
def test_an_avatar_whose_files_do_not_fit_fails_with_a_message(trained, tmp_path, damage):
    """What an uploaded archive or a damaged disk may hold: the render fails as the avatar's fault."""
    job, manifest, _ = trained
    avatar = tmp_path / "avatar"
    shutil.copytree(job.avatar_dir, avatar)
    with np.load(avatar / "tracks.npz") as archive:
        tracks = dict(archive)
    if damage == "tracks not an archive":
        (avatar / "tracks.npz").write_bytes(b"PK\x03\x04 not really")
    elif damage == "tracks without codes":
        np.savez(avatar / "tracks.npz", **{key: value for key, value in tracks.items() if key != "codes"})
    elif damage == "tracks of other lengths":
        np.savez(avatar / "tracks.npz", **{**tracks, "transforms": tracks["transforms"][:3]})
    else:
        (avatar / "mouth_net.pt").write_bytes(b"not a torch checkpoint")
    speech = tmp_path / "speech.wav"
    ffmpeg("-i", str(shared_media(SPEECH)), "-t", "1", "-ac", "1", "-ar", "16000", str(speech))

    with pytest.raises(EngineError, match="damaged"):
        BuiltinTalkingHead().render(RenderJob(avatar_dir=avatar, manifest=manifest, audio_wav=speech,
                                              output_mp4=tmp_path / "out.mp4", work_dir=tmp_path), Recorder())
    assert not (tmp_path / "out.mp4").exists()


def test_features_of_speech_shorter_than_one_analysis_window():
    from training.engines.builtin import features

    for length in (0, 100, features.N_FFT):
        assert features.log_mel(np.zeros(length, np.float32)).shape[1] == features.N_MELS


def test_silence_is_a_pause_even_when_the_whole_recording_is_silent():
    from training.engines.builtin import features

    rate = features.SAMPLE_RATE
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(2 * rate) / rate).astype(np.float32)

    assert features.pause_weights(np.zeros(2 * rate, np.float32), 50).min() == 1.0
    assert features.pause_weights(np.concatenate([np.zeros(rate, np.float32), tone[:rate]]), 50)[5:20].min() == 1.0
    assert features.pause_weights(tone, 50).max() == 0.0


def test_a_video_writer_whose_ffmpeg_quits_says_why_not_broken_pipe(tmp_path):
    from avatar_site.lib.media import MediaError
    from training.engines.builtin.compositor import VideoWriter

    writer = VideoWriter(tmp_path / "no-such-folder" / "out.mp4", 64, 64, archive=True)
    frame = np.zeros((64, 64, 3), np.uint8)

    with pytest.raises(MediaError) as refused:
        for _frame in range(2000):  # ffmpeg opens its output after the first frames
            writer.write(frame)
    writer.abort()

    assert str(refused.value).startswith("ffmpeg failed: ")
    assert "No such file or directory" in str(refused.value)


@pytest.mark.slow
def test_a_reference_ending_in_silence_trains_with_scores_json_can_store(tmp_path):
    """Its held-out tail is all pause: the predicted mouth holds still and has no correlation to report."""
    video = tmp_path / "quiet_end.mp4"
    ffmpeg("-i", str(shared_media(REAL_VIDEO)), "-t", "5", "-af", "volume=enable='gt(t,3.5)':volume=0",
           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(video))

    manifest = BuiltinTalkingHead().train(
        TrainingJob(avatar_id="quiet", source_video=video, avatar_dir=tmp_path / "avatar", epochs=2), Recorder())

    json.dumps(manifest, allow_nan=False)
    assert manifest["scores"]["opening_r"] is None and manifest["scores"]["held_out_lmd"] > 0


def eye_distance_over_face_height(avatar_dir):
    tracks = np.load(avatar_dir / "tracks.npz")
    points = tracks["landmarks"][tracks["valid"]]
    eyes = np.linalg.norm(points[:, 33] - points[:, 263], axis=-1)  # outer eye corners
    height = np.linalg.norm(points[:, 10] - points[:, 152], axis=-1)  # forehead to chin
    return float(np.median(eyes / height))


@pytest.mark.slow
def test_it_trains_anamorphic_video_with_the_face_in_its_shown_proportions(tmp_path):
    """Stored squeezed to 384 wide with 4:3 pixels: a player shows it 512 wide, and so must the avatar."""
    square, squeezed = tmp_path / "square.mp4", tmp_path / "squeezed.mp4"
    clip(shared_media(REAL_VIDEO), square, 4)
    ffmpeg("-i", str(square), "-vf", "scale=384:512,setsar=4/3", "-c:v", "libx264", "-preset", "ultrafast",
           "-c:a", "copy", str(squeezed))

    for video in (square, squeezed):
        BuiltinTalkingHead().train(TrainingJob(avatar_id=video.stem, source_video=video,
                                               avatar_dir=tmp_path / video.stem, epochs=1), Recorder())

    shown, trained = (eye_distance_over_face_height(tmp_path / name) for name in ("square", "squeezed"))
    assert trained == pytest.approx(shown, rel=0.05)  # squeezed as stored, it would be 25 % narrower


def test_an_hdr_video_is_decoded_in_the_colours_a_player_shows(tmp_path):
    """An iPhone's HLG video (10-bit HEVC, BT.2020): decoded without tone mapping it comes out grey."""
    from avatar_site.lib.media import display_filters, probe
    from training.engines.builtin.faces import read_frames

    sdr, hlg = tmp_path / "sdr.mp4", tmp_path / "hlg.mov"
    clip(shared_media(REAL_VIDEO), sdr, 1)
    ffmpeg("-i", str(sdr), "-vf", "zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=arib-std-b67:m=bt2020nc:p=bt2020:"
           "r=tv,format=yuv420p10le", "-c:v", "libx265", "-x265-params",
           "colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc:log-level=error", "-tag:v", "hvc1",
           "-an", str(hlg))
    info = probe(hlg)

    original = next(read_frames(sdr, 256, 256)).astype(float)
    as_stored = next(read_frames(hlg, 256, 256)).astype(float)
    as_shown = next(read_frames(hlg, 256, 256, ",".join(display_filters(info)))).astype(float)

    assert info.is_hdr
    saturation = lambda frame: float((frame.max(-1) - frame.min(-1)).mean())  # noqa: E731
    assert saturation(as_stored) < 0.7 * saturation(original)  # the washed-out picture the filters avoid
    assert saturation(as_shown) > 0.8 * saturation(original)


@pytest.mark.slow
def test_a_video_whose_sound_ends_early_trains_on_the_part_with_sound_and_says_so(tmp_path):
    video = tmp_path / "short_sound.mp4"
    ffmpeg("-i", str(shared_media(REAL_VIDEO)), "-t", "6", "-af", "atrim=0:4", "-c:v", "libx264",
           "-preset", "ultrafast", "-c:a", "aac", str(video))
    progress = Recorder()

    manifest = BuiltinTalkingHead().train(
        TrainingJob(avatar_id="short_sound", source_video=video, avatar_dir=tmp_path / "avatar", epochs=1), progress)

    assert manifest["frames"] == pytest.approx(100, abs=2)
    assert any(line.startswith("the audio ends at 4.0 s of 6.0 s of video") for line in progress.lines)
