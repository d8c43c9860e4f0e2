"""Trained avatars packed as a zip of their folder, imported when a client uploads one as model_param."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from avatar_site.lib.errors import ApiError, Unprocessable, UnsupportedMedia
from avatar_site.lib.media import MediaError, probe
from avatar_site.lib.parsers import unstorable_text
from training.engines import get_talking_head_engine
from training.engines.base import TalkingHeadEngine
from training.models import Avatar

MAX_MEMBERS = 20000
CHUNK = 1024 * 1024
# Read whole into the request's memory: a manifest lists two losses per epoch, ~4 MB at the most
# epochs a training may ask for; a zip bomb's manifest must not get further than its size.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def import_avatar(uploaded, engine: str, owner, queue: str | None = None) -> Avatar:
    """Unpack an uploaded avatar archive (manifest.json at its top or in its one top folder):
    the manifest and the engine's ``archive_files``; other entries are left in the archive.

    The archive's listed sizes are checked before anything is written and the bytes actually
    unpacked are counted while writing, so a decompression bomb stops at the limit; entry
    names may not leave the avatar's folder. The same archive sent again by the same user gives
    the avatar imported the first time (``imported_now`` False): every request would otherwise
    leave one more copy behind.
    """
    talking_head = get_talking_head_engine(engine, queue)
    if not talking_head.archive_files:
        raise ApiError(_("model_param: %(engine)s avatars cannot be uploaded (their checkpoints are Python pickles, "
                         "which run code when loaded); name one trained on this site by its id.") % {"engine": engine})
    if not zipfile.is_zipfile(uploaded):
        raise UnsupportedMedia(_("model_param: upload a .zip of a trained avatar's folder (with its manifest.json)."))
    digest = _sha256(uploaded)
    earlier = Avatar.objects.filter(owner=owner, engine=engine, status=Avatar.Status.READY,
                                    metrics__archive_sha256=digest).first()
    if earlier is not None and earlier.manifest_path.is_file():
        earlier.imported_now = False
        return earlier
    uploaded.seek(0)
    try:
        archive = zipfile.ZipFile(uploaded)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise Unprocessable(_("model_param: the archive is damaged (%(error)s).") % {"error": exc}) from None
    with archive:
        members = [member for member in archive.infolist() if not member.is_dir()]
        prefix = _checked_prefix(members)
        manifest = _checked_manifest(archive, prefix, engine)
        try:  # what training would have accepted: the API shows them, and nothing else may hide there
            params = talking_head.validate_params(manifest.get("params") or {})
        except ValueError as exc:
            raise ApiError(_("model_param: manifest.json: params: %(reason)s") % {"reason": exc}) from None
        avatar = Avatar.create_with_unique_id(
            name=Avatar.default_name(uploaded), engine=engine, source_video="(imported archive)",
            epochs=manifest.get("epochs") or 1,
            params=params, metrics={"imported": True, "archive_sha256": digest},
            owner=owner,
        )
        try:
            _unpack(archive, [member for member in members
                              if member.filename[len(prefix):] in talking_head.archive_files], prefix, avatar)
            missing = talking_head.missing_files(avatar.folder, manifest)
            if missing:
                raise Unprocessable(_("model_param: the archive lacks what rendering needs: %(missing)s.") % {
                    "missing": ", ".join(missing)})
            _check_media(avatar.folder, talking_head.archive_files)
            avatar.make_ready({**manifest, "avatar_id": avatar.id})
        except BaseException:
            avatar.delete()
            raise
    avatar.imported_now = True
    return avatar


def _check_media(folder, names: tuple[str, ...]) -> None:
    """Rendering decodes the archive's audio and video with ffmpeg: each must be an ordinary
    container (a playlist named frames.mp4 would make ffmpeg read the files it names)."""
    for name in names:
        if (mimetypes.guess_type(name)[0] or "").startswith(("audio/", "video/")):
            try:
                probe(folder / name)
            except MediaError as exc:
                raise UnsupportedMedia(_("model_param: the archive's %(name)s: %(message)s") % {
                    "name": name, "message": exc}) from None


def _sha256(uploaded) -> str:
    uploaded.seek(0)
    digest = hashlib.sha256()
    while chunk := uploaded.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _checked_manifest(archive: zipfile.ZipFile, prefix: str, engine: str) -> dict:
    try:
        info = archive.getinfo(prefix + "manifest.json")
        if info.file_size > MAX_MANIFEST_BYTES:
            raise ApiError(_("model_param: manifest.json is larger than %(size)s.")
                           % {"size": filesizeformat(MAX_MANIFEST_BYTES)})
        manifest = json.loads(archive.read(info))
    except (KeyError, ValueError, zipfile.BadZipFile, zlib.error, EOFError):
        raise ApiError(_("model_param: the archive has no readable manifest.json.")) from None
    if not isinstance(manifest, dict):
        raise ApiError(_("model_param: manifest.json is not a JSON object."))
    if reason := unstorable_text(manifest):
        raise ApiError(_("model_param: manifest.json: %(reason)s.") % {"reason": reason})
    if manifest.get("engine") != engine:
        raise ApiError(_("model_param: the archive holds a %(found)r avatar, not %(engine)s.") % {
            "found": manifest.get("engine"), "engine": engine})
    epochs = manifest.get("epochs")
    if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int) or not 0 <= epochs < 2**31):
        raise ApiError(_("model_param: manifest.json: epochs %(epochs)r is not a whole number of epochs.") % {
            "epochs": epochs})
    if not isinstance(manifest.get("params") or {}, dict):
        raise ApiError(_("model_param: manifest.json: params is not a JSON object."))
    return manifest


def _checked_prefix(members: list[zipfile.ZipInfo]) -> str:
    if not members or len(members) > MAX_MEMBERS:
        raise Unprocessable(_("model_param: the archive must hold 1 to %(limit)s files.") % {"limit": MAX_MEMBERS})
    if sum(member.file_size for member in members) > settings.MAX_AVATAR_ARCHIVE_BYTES:
        raise Unprocessable(_("model_param: the archive unpacks to more than the allowed size."))
    names = [PurePosixPath(member.filename) for member in members]
    if any(name.is_absolute() or ".." in name.parts or "\\" in str(name) for name in names):
        raise ApiError(_("model_param: the archive has entries outside its folder."))
    if PurePosixPath("manifest.json") in names:
        return ""
    tops = {name.parts[0] for name in names}
    if len(tops) == 1 and PurePosixPath(next(iter(tops)), "manifest.json") in names:
        return next(iter(tops)) + "/"
    raise ApiError(_("model_param: the archive has no manifest.json at its top."))


def _unpack(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], prefix: str, avatar: Avatar) -> None:
    folder = avatar.folder
    written = 0
    for member in members:
        target = folder / member.filename[len(prefix):]  # one of the engine's archive_files
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(target, "wb") as sink:
                while chunk := source.read(CHUNK):
                    written += len(chunk)
                    if written > settings.MAX_AVATAR_ARCHIVE_BYTES:
                        raise Unprocessable(_("model_param: the archive unpacks to more than the allowed size."))
                    sink.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise Unprocessable(_("model_param: the archive is damaged (%(error)s).") % {"error": exc}) from None


def pack_avatar(avatar: Avatar, target: Path, engine: TalkingHeadEngine) -> None:
    """The other direction, for moving an avatar to another site (``manage.py export_avatar``):
    its manifest and the engine's ``archive_files`` as a zip, what ``import_avatar`` unpacks."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("manifest.json", *engine.archive_files):
            if (avatar.folder / name).is_file():
                archive.write(avatar.folder / name, name)
