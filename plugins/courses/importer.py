"""Import an OLX course export (a folder or a ``.tar.gz`` as Studio exports it).

:func:`import_course` reads the whole export first (:mod:`plugins.courses.olx`),
then stores it with :func:`plugins.courses.api.store_course` in the caller's
transaction: a failing import leaves the database as it was, and a re-import
replaces the previous version atomically.

Archives (tar, optionally gzip/bzip2/xz compressed) are untrusted input. The
archive is read as a stream and every member is checked before its data is
read: absolute paths, ``..``, links of any kind, devices and other special
files are refused, and so are archives with more than ``courses.import_max_files``
members or whose files add up to more than ``courses.import_max_bytes`` (on the
declared sizes, and on the bytes actually decompressed, tar headers included).
Only regular files and folders are extracted, into a private temporary folder
removed afterwards. A folder given directly gets the same checks. XML is parsed
with defusedxml with DTDs forbidden (no entity expansion, no external entities).
"""
import contextlib
import importlib
import io
import lzma
import os
import shutil
import stat
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lms.settings import as_int
from plugins.courses import api
from plugins.courses.olx import OLXError, read_course

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_FILES = 100_000
DEFAULT_MAX_BLOCKS = 100_000
COPY_CHUNK = 1024 * 1024
COMPRESSIONS = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "lzma"))


@dataclass
class ImportLimits:
    max_bytes: int = DEFAULT_MAX_BYTES  # total size of the export's files
    max_files: int = DEFAULT_MAX_FILES  # files and folders
    max_blocks: int = DEFAULT_MAX_BLOCKS

    @classmethod
    def from_settings(cls, settings):
        def setting(name, default):
            key = f"courses.import_max_{name}"
            return as_int(settings, key) if settings.get(key) not in (None, "") else default

        return cls(max_bytes=setting("bytes", DEFAULT_MAX_BYTES),
                   max_files=setting("files", DEFAULT_MAX_FILES),
                   max_blocks=setting("blocks", DEFAULT_MAX_BLOCKS))


@dataclass
class ImportResult:
    course: object  # the stored plugins.courses.models.Course
    block_count: int
    asset_count: int

    @property
    def course_key(self):
        return self.course.course_key

    @property
    def version(self):
        return self.course.version


def import_course(db, path, course_key=None, limits=None, progress=None):
    """Import the export at ``path`` into ``db``'s transaction (the caller commits).

    Raises :class:`OLXError` (nothing stored) when the export is refused or invalid.
    """
    limits = limits or ImportLimits()
    with open_export(path, limits) as root:
        parsed = read_course(root, course_key=course_key, progress=progress,
                             max_blocks=limits.max_blocks)
    course = api.store_course(db, parsed.course_key, parsed.overview, parsed.blocks,
                              parsed.assets)
    return ImportResult(course=course, block_count=len(parsed.blocks),
                        asset_count=len(parsed.assets))


@contextlib.contextmanager
def open_export(path, limits):
    """Yield the folder holding ``course.xml``: the folder given, or an archive's files
    extracted to a temporary folder (removed on exit)."""
    path = Path(path)
    if path.is_dir():
        check_folder(path, limits)
        yield find_course_root(path)
        return
    if not path.is_file():
        raise OLXError("no such file or folder")
    with tempfile.TemporaryDirectory(prefix="openlms-import-") as scratch:
        extract_safely(path, Path(scratch), limits)
        yield find_course_root(Path(scratch))


def find_course_root(top):
    """``top`` when it has course.xml, else its only sub-folder that has one (Studio
    puts the export in a ``course/`` folder)."""
    if (top / "course.xml").is_file():
        return top
    candidates = [child for child in sorted(top.iterdir())
                  if child.is_dir() and not child.is_symlink()
                  and (child / "course.xml").is_file()]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise OLXError("no course.xml at the top or in a top-level folder")
    raise OLXError("several top-level folders have a course.xml")


def check_folder(root, limits):
    """A folder given directly gets the same limits, and no links or special files."""
    total, count = 0, 0
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(directory) / name
            relative = full.relative_to(root).as_posix()
            mode = full.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise OLXError(f"{relative}: links are not allowed in a course export")
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise OLXError(f"{relative}: special files are not allowed in a course export")
            count += 1
            if count > limits.max_files:
                raise OLXError(f"more than {limits.max_files} files "
                               "(setting courses.import_max_files)")
            if stat.S_ISREG(mode):
                total += full.lstat().st_size
                if total > limits.max_bytes:
                    raise OLXError(too_big(limits.max_bytes))


def too_big(max_bytes):
    return (f"the export's files add up to more than {max_bytes} bytes "
            "(setting courses.import_max_bytes)")


def member_path(member):
    """The member's safe relative path, or OLXError saying why it is refused."""
    name = member.name
    if "\x00" in name:
        raise OLXError(f"refused member {name!r}: NUL in its name")
    pure = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or pure.is_absolute() or (len(name) > 1 and name[1] == ":"):
        raise OLXError(f"refused member {name!r}: absolute path")
    if ".." in pure.parts:
        raise OLXError(f"refused member {name!r}: '..' in its path")
    if member.issym() or member.islnk():
        raise OLXError(f"refused member {name!r}: links are not allowed "
                       f"(it points at {member.linkname!r})")
    if member.isdev():
        raise OLXError(f"refused member {name!r}: device or fifo")
    if not (member.isfile() or member.isdir()) or member.issparse():
        raise OLXError(f"refused member {name!r}: not a regular file or folder")
    parts = [part for part in pure.parts if part not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


class LimitedReader(io.RawIOBase):
    """The uncompressed archive stream, refused past ``limit`` bytes.

    Declared sizes are checked member by member; this also bounds what tarfile
    reads by itself (tar headers, pax and GNU long-name records), whatever the
    headers claim.
    """

    def __init__(self, stream, limit, max_bytes):
        self.stream, self.limit, self.max_bytes, self.total = stream, limit, max_bytes, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        count = self.stream.readinto(buffer)
        self.total += count
        if self.total > self.limit:
            raise OLXError(too_big(self.max_bytes))
        return count


def open_stream(archive):
    """The archive's uncompressed bytes (gzip, bzip2, xz or none, told by magic numbers)."""
    with open(archive, "rb") as probe:
        magic = probe.read(6)
    for prefix, module in COMPRESSIONS:
        if magic.startswith(prefix):
            return importlib.import_module(module).open(archive, "rb")
    return open(archive, "rb")


def extract_safely(archive, target, limits):
    """Extract regular files and folders only, checking each header before its data."""
    total, count = 0, 0
    # Headers and padding take at most 1 KiB per member beyond the files' own bytes.
    stream_limit = limits.max_bytes + 1024 * (limits.max_files + 2) + 10240
    try:
        with open_stream(archive) as raw, tarfile.open(
                fileobj=io.BufferedReader(LimitedReader(raw, stream_limit, limits.max_bytes),
                                          COPY_CHUNK),
                mode="r|") as tar:
            for member in tar:
                count += 1
                if count > limits.max_files:
                    raise OLXError(f"more than {limits.max_files} archive members "
                                   "(setting courses.import_max_files)")
                relative = member_path(member)
                if member.isfile():
                    total += member.size
                    if total > limits.max_bytes:
                        raise OLXError(too_big(limits.max_bytes))
                if relative is None:
                    continue
                destination = target.joinpath(*relative.parts)
                if member.isdir():
                    destination.mkdir(parents=True, exist_ok=True, mode=0o700)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                if destination.is_symlink() or destination.is_dir():
                    raise OLXError(f"refused member {member.name!r}: "
                                   "it clashes with another member")
                source = tar.extractfile(member)
                with source, open(destination, "wb") as out:
                    shutil.copyfileobj(source, out, COPY_CHUNK)
    except tarfile.ReadError as exc:
        if count == 0:
            raise OLXError("not a folder or a tar archive (.tar.gz) of a course export")
        raise OLXError(f"unreadable archive (ReadError: {exc})")
    except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
        # a truncated or corrupt archive
        raise OLXError(f"unreadable archive ({type(exc).__name__}: {exc})")
